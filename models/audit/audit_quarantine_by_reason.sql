{#-
  One row per build and rejection reason: the sales_quarantine rows of that build's window in
  audit_pipeline_health (a reason with no row in a window has no row here).
-#}
{%- set window = audit_build_window(ref('audit_pipeline_health')) %}

with

health as (

    select
        invocation_id,
        run_started_at,
        window_start,
        window_end
    from {{ ref('audit_pipeline_health') }}
    where invocation_id = {{ build_invocation_id() }}

),

quarantine as (

    select
        rejection_reason,
        ingestion_time
    from {{ ref('sales_quarantine') }}
    {%- if window is not none %}
    -- the same window as literals: Delta skips the older files
    where ingestion_time > {{ window[0] }} and ingestion_time <= {{ window[1] }}
    {%- endif %}

),

final as (

    select
        health.invocation_id,
        health.run_started_at,
        quarantine.rejection_reason,
        count(*) as quarantined_rows
    from health
    inner join quarantine
        on health.window_start < quarantine.ingestion_time
            and health.window_end >= quarantine.ingestion_time
    group by
        health.invocation_id,
        health.run_started_at,
        quarantine.rejection_reason

)

select * from final

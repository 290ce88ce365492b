{#-
  One row per build of this model: what the bronze rows since the previous row became.

  The window is (window_start, window_end] in bronze ingestion_time: from the previous row's
  window_end (nothing before the first row) to silver_cutoff(), the newest ingestion_time
  both silver tables have processed. Consecutive windows touch, so every bronze row is counted
  in exactly one row of this table, also when a build skips this model (the next one takes the
  whole gap) or silver is rebuilt (--full-refresh keeps this table). Rows the stream appends
  while dbt builds fall in the next window.

  The counts are the conservation test's (macros/consistency.sql conservation_counts):
  conserved = bronze rows = sales rows + duplicates dropped + quarantined rows, for the window.
-#}
{%- set since = audit_health_watermark() %}
{%- set window_start = since if since is not none else "timestamp '1970-01-01 00:00:00'" %}
{%- set window_end = silver_cutoff() %}

with

bounds as (

    select
        {{ window_start }} as window_start,
        {{ window_end }} as window_end

),

{{ conservation_counts(
    bronze_where='ingestion_time > ' ~ window_start ~ ' and ingestion_time <= ' ~ window_end,
    silver_where='ingestion_time > ' ~ window_start ~ ' and ingestion_time <= ' ~ window_end,
    older_where=('ingestion_time <= ' ~ window_start) if since is not none else none,
) }},

newest as (

    -- the newest sale of the window (the previous rows hold the older ones)
    select
        max(event_at) as newest_event_at,
        max(loaded_at) as newest_loaded_at
    from {{ ref('sales_simple') }}
    where ingestion_time > {{ window_start }}
        and ingestion_time <= {{ window_end }}

),

final as (

    select
        -- the build
        {{ build_invocation_id() }} as invocation_id,
        '{{ target.name }}' as target_name,
        {{ run_loaded_at() }} as run_started_at,
        current_timestamp() as built_at,

        -- the bronze window
        bounds.window_start,
        bounds.window_end,

        -- what it became
        counts.bronze_rows as bronze_rows_added,
        counts.simple_rows as sales_added,
        counts.duplicate_rows as duplicates_dropped,
        counts.quarantine_rows as quarantined_rows,
        counts.bronze_rows = counts.simple_rows + counts.duplicate_rows + counts.quarantine_rows as conserved,
        case
            when counts.bronze_rows > 0
                then cast(counts.quarantine_rows / counts.bronze_rows as decimal(9, 6))
        end as quarantine_share,

        -- freshness: the newest times silver holds after this build
        newest.newest_event_at,
        bounds.window_end as newest_ingestion_time,
        newest.newest_loaded_at

    from bounds
    cross join counts
    cross join newest

)

select * from final

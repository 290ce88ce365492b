{#-
  Filters for the incremental branches.

  bronze_increment_filter: bronze rows to (re)consider this run — those ingested after the
  newest one already in the target, minus a lookback (var bronze_lookback_minutes, default 0:
  exact for one writer, whose batches commit in ingestion_time order) that covers a second
  stream whose commit lands after a later-stamped one. Rows read twice are recognised by
  record_id and not written again. Event time is never used: late events are new rows like
  any other.

  loaded_after_filter: rows a previous dbt run of the upstream model wrote after the newest
  one this model has already processed (`loaded_at` is the run that wrote a silver row).
-#}
{% macro bronze_increment_filter(column='ingestion_time') -%}
    {{ column }} > (
        select coalesce(
            max(ingestion_time) - interval {{ var('bronze_lookback_minutes') }} minutes,
            timestamp '1970-01-01 00:00:00'
        )
        from {{ this }}
    )
{%- endmacro %}

{% macro loaded_after_filter(column='loaded_at') -%}
    {{ column }} > (
        select coalesce(max(loaded_at), timestamp '1970-01-01 00:00:00') from {{ this }}
    )
{%- endmacro %}

{#- The time this dbt invocation started, as a timestamp literal: the `loaded_at` of every
    silver row it writes (identical across the models of one `dbt build`). -#}
{% macro run_loaded_at() -%}
    cast('{{ run_started_at }}' as timestamp)
{%- endmacro %}

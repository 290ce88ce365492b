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

  Each filter is a subquery on {{ this }} and, in a real run, the same bound again as a
  literal (watermark_literal): Delta skips files by their min/max statistics only for
  predicates known when the query is planned, and a scalar subquery is not, so without the
  literal every incremental run would read the whole upstream table — the history, not the
  new rows. Unit tests (fixtures, not tables) get the subquery alone.
-#}
{% macro bronze_increment_filter(column='ingestion_time') -%}
    {%- set bound -%}
        max(ingestion_time) - interval {{ var('bronze_lookback_minutes') }} minutes
    {%- endset -%}
    {{ column }} > (
        select coalesce({{ bound }}, timestamp '1970-01-01 00:00:00')
        from {{ this }}
    )
    {%- set literal = watermark_literal(bound) %}
    {%- if literal %} and {{ column }} > {{ literal }}{% endif %}
{%- endmacro %}

{% macro loaded_after_filter(column='loaded_at') -%}
    {{ column }} > (
        select coalesce(max(loaded_at), timestamp '1970-01-01 00:00:00') from {{ this }}
    )
    {%- set literal = watermark_literal('max(loaded_at)') %}
    {%- if literal %} and {{ column }} > {{ literal }}{% endif %}
{%- endmacro %}

{#- `bound` (a timestamp aggregate over {{ this }}) as a timestamp literal, read with one
    query; none when there is nothing to read (parsing, a unit test, an empty table). -#}
{% macro watermark_literal(bound) -%}
    {%- if not execute or model.resource_type == 'unit_test' -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set value = run_query("select cast(" ~ bound ~ " as string) from " ~ this).columns[0].values()[0] -%}
    {{- return("timestamp '" ~ value ~ "'" if value is not none else none) -}}
{%- endmacro %}

{#- The time this dbt invocation started, as a timestamp literal: the `loaded_at` of every
    silver row it writes (identical across the models of one `dbt build`). -#}
{% macro run_loaded_at() -%}
    cast('{{ run_started_at }}' as timestamp)
{%- endmacro %}

{#-
  True when this incremental run of a gold aggregate may add the new silver rows' aggregate to
  the rows already here (counts and sums add up, min/max combine) instead of re-reading silver:
  every sales_enriched row at or before this model's watermark (newest `loaded_at`) is exactly
  what it has already counted — `counted` summed here equals the number of such silver rows
  (`where` restricts them like the model does). That holds while silver only gains rows, which
  is what every incremental run with bronze_lookback_minutes 0 does. It fails, and the model
  recomputes from all of silver, when a row was replaced (a lookback re-read found an earlier
  copy: the row comes back with a new loaded_at) or silver was rebuilt without this model.
  Unit tests override this macro to pick a branch. One query; false on a first or full build.
-#}
{% macro additive_increment(counted, where=none) -%}
    {%- if not (execute and is_incremental()) -%}
        {{- return(false) -}}
    {%- endif -%}
    {%- set check -%}
        select
            (select coalesce(sum({{ counted }}), 0) from {{ this }})
            = (
                select count(*)
                from {{ ref('sales_enriched') }}
                where loaded_at <= (select max(loaded_at) from {{ this }})
                    {%- if where %} and {{ where }}{% endif %}
            ) as is_additive
    {%- endset -%}
    {%- set is_additive = run_query(check).columns[0].values()[0] -%}
    {%- if not is_additive -%}
        {%- do log(this ~ ": silver changed beyond new rows since the last run: recomputing from all of it", info=true) -%}
    {%- endif -%}
    {{- return(is_additive) -}}
{%- endmacro %}

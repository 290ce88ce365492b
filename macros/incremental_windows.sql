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

  The literal is the bound plus 1 ms (prunable_after). Delta keeps timestamp statistics in
  milliseconds and, to stay safe, takes a file's maximum as 1 ms above its statistic, so a
  bound at the exact watermark never skips the files of the newest load already taken —
  after a full refresh or a backfill that is the whole history. One stream stamps each
  micro-batch once (current_timestamp) and commits it before it stamps the next, and each dbt
  run stamps its loaded_at once: no two loads are stamped within 1 ms of each other, so no
  row lies between the bound and the literal. With a lookback (several writers) the bronze
  literal is the exact bound: another writer's batch may be stamped anywhere.
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
    {%- if literal %} and {{ column }} > {{ prunable_after(literal) if var('bronze_lookback_minutes') | int == 0 else literal }}{% endif %}
{%- endmacro %}

{% macro loaded_after_filter(column='loaded_at') -%}
    {{ column }} > (
        select coalesce(max(loaded_at), timestamp '1970-01-01 00:00:00') from {{ this }}
    )
    {%- set literal = watermark_literal('max(loaded_at)') %}
    {%- if literal %} and {{ column }} > {{ prunable_after(literal) }}{% endif %}
{%- endmacro %}

{#- A timestamp literal 1 ms after `literal`: see above. -#}
{% macro prunable_after(literal) -%}
    {{ literal }} + interval 1 millisecond
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
  True when, since this model's last run, `upstream` (a model with `loaded_at`) has only
  gained rows: the upstream rows at or before this model's watermark (its newest `loaded_at`)
  are exactly the ones it has already taken — their number equals `taken` here (an aggregate
  over {{ this }}: count(*) for a row-per-row model, the sum of a count column for an
  aggregate), `where` restricting the upstream rows like the model does. Then the upstream
  rows after the watermark are all new: a row-per-row model can append them, an aggregate can
  add theirs to its rows (counts and sums add, min/max combine). Every incremental run does
  that with bronze_lookback_minutes 0. The check fails when an upstream row was replaced (a
  lookback re-read found an earlier copy: it comes back with a new loaded_at) or the upstream
  was rebuilt without this model: the run logs `otherwise` (what the model does instead). One
  query; false on a first or full build. Unit tests override the macro to pick a branch.
-#}
{% macro upstream_only_gained_rows(upstream, otherwise, taken='count(*)', where=none) -%}
    {%- if not (execute and is_incremental()) -%}
        {{- return(false) -}}
    {%- endif -%}
    {%- set check -%}
        select
            (select coalesce({{ taken }}, 0) from {{ this }})
            = (
                select count(*)
                from {{ upstream }}
                where loaded_at <= (select max(loaded_at) from {{ this }})
                    {%- if where %} and {{ where }}{% endif %}
            ) as only_gained
    {%- endset -%}
    {%- set only_gained = run_query(check).columns[0].values()[0] -%}
    {%- if not only_gained -%}
        {%- do log(this ~ ": " ~ upstream ~ " changed beyond new rows since the last run: "
            ~ otherwise, info=true) -%}
    {%- endif -%}
    {{- return(only_gained) -}}
{%- endmacro %}

{#- Silver and fct_sales append their new rows when no row can be replaced — a bronze row
    ingested after the newest one loaded never outranks a loaded copy, so with
    bronze_lookback_minutes 0 every winner is a new transaction_id — and merge on the key
    otherwise. Appending skips the MERGE's scan of the table's keys. -#}
{% macro row_model_strategy() -%}
    {{- return('append' if var('bronze_lookback_minutes') | int == 0 else 'merge') -}}
{%- endmacro %}

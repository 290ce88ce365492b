{#-
  The run audit trail: every dbt invocation that runs nodes (build, run, test, seed, snapshot)
  appends one row per node to audit.audit_dbt_node_results from its on-run-end hook, with the
  node's status, rows affected, failures, duration and message as dbt's run results give them.

  The table's columns are audit_node_results_select()'s; the model audit_dbt_node_results
  creates it from that query (empty, documented in dbt docs) and the hook does too when it
  does not exist yet (a build that selects only some models), then inserts. The model keeps its rows
  across --full-refresh (full_refresh=false): the trail is history.
-#}
{#- The audit_dbt_node_results model's relation, from the graph (a hook cannot call ref()). -#}
{% macro audit_node_results_relation() -%}
    {%- set node = graph.nodes['model.' ~ project_name ~ '.audit_dbt_node_results'] -%}
    {{- return(api.Relation.create(database=node.database, schema=node.schema, identifier=node.alias)) -}}
{%- endmacro %}

{#- A value as a Spark SQL literal: null, a number, or a string with ' and \ escaped. -#}
{% macro audit_literal(value, type='string') -%}
    {%- if value is none -%}
        {{- return('cast(null as ' ~ type ~ ')') -}}
    {%- elif type in ('bigint', 'double') -%}
        {{- return('cast(' ~ value ~ ' as ' ~ type ~ ')') -}}
    {%- elif type == 'timestamp' -%}
        {{- return("cast('" ~ value ~ "' as timestamp)") -}}
    {%- endif -%}
    {%- set text = (value | string)[:2000] -%}
    {{- return("'" ~ text.replace('\\', '\\\\').replace("'", "\\'").replace('\n', ' ') ~ "'") -}}
{%- endmacro %}

{#- on-run-end: one audit row per node this invocation ran (or skipped). -#}
{% macro record_node_results(results) -%}
    {%- if not execute or not results or flags.WHICH not in ('build', 'run', 'test', 'seed', 'snapshot') -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set relation = audit_node_results_relation() -%}
    {#- two fewer queries per invocation once the table exists (the cache knows it) -#}
    {%- if adapter.get_relation(database=relation.database, schema=relation.schema, identifier=relation.identifier) is none -%}
        {%- do run_query('create schema if not exists ' ~ relation.without_identifier()) -%}
        {%- do run_query('create table if not exists ' ~ relation ~ ' using delta as ' ~ audit_node_results_select()) -%}
    {%- endif -%}
    {%- set rows = [] -%}
    {%- set names = namespace(list=[]) -%}
    {%- for result in results -%}
        {%- set response = result.adapter_response or {} -%}
        {%- set affected = response.get('rows_affected') -%}
        {%- set values = {
            'invocation_id': audit_literal(invocation_id),
            'command': audit_literal(flags.WHICH),
            'target_name': audit_literal(target.name),
            'run_started_at': audit_literal(run_started_at, 'timestamp'),
            'unique_id': audit_literal(result.node.unique_id),
            'resource_type': audit_literal(result.node.resource_type),
            'node_name': audit_literal(result.node.name),
            'status': audit_literal(result.status),
            'rows_affected': audit_literal(affected if affected is number and affected >= 0 else none, 'bigint'),
            'failures': audit_literal(result.failures if result.failures is number else none, 'bigint'),
            'execution_seconds': audit_literal(result.execution_time | round(3), 'double'),
            'message': audit_literal(result.message),
            'recorded_at': 'current_timestamp()',
        } -%}
        {%- if loop.first -%}
            {%- set names.list = values.keys() | list -%}
        {%- endif -%}
        {%- do rows.append('(' ~ values.values() | join(', ') ~ ')') -%}
    {%- endfor -%}
    {%- for batch in rows | batch(200) -%}
        {%- do run_query('insert into ' ~ relation ~ ' (' ~ names.list | join(', ') ~ ') values ' ~ batch | join(', ')) -%}
    {%- endfor -%}
    {{- log('audit: ' ~ rows | length ~ ' node results recorded in ' ~ relation, info=True) -}}
    {{- return('') -}}
{%- endmacro %}

{#- The newest window_end already in audit_pipeline_health (a timestamp literal), or none. -#}
{% macro audit_health_watermark() -%}
    {%- if not execute or not is_incremental() -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set value = run_query("select cast(max(window_end) as string) from " ~ this).columns[0].values()[0] -%}
    {{- return("timestamp '" ~ value ~ "'" if value is not none else none) -}}
{%- endmacro %}

{#- This invocation's id, as a string literal (the key of its audit rows). -#}
{% macro build_invocation_id() -%}
    '{{ invocation_id }}'
{%- endmacro %}

{#- This invocation's window in audit_pipeline_health, as two timestamp literals
    (window_start, window_end), or none when it has no row there (parsing, a unit test, compile or docs generate). -#}
{% macro audit_build_window(health) -%}
    {%- if not execute or model.resource_type == 'unit_test' -%}
        {{- return(none) -}}
    {%- endif -%}
    {#- `dbt compile` / `docs generate` before the first build: no table yet -#}
    {%- if load_relation(health) is none -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set values = run_query(
        "select concat(cast(window_start as string), '|', cast(window_end as string)) from " ~ health
        ~ " where invocation_id = " ~ build_invocation_id()).columns[0].values() -%}
    {#- another command than the build that wrote the row (compile, docs generate): no row -#}
    {%- if values | length == 0 or values[0] is none -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set bounds = values[0].split('|') -%}
    {{- return(["timestamp '" ~ bounds[0] ~ "'", "timestamp '" ~ bounds[1] ~ "'"]) -}}
{%- endmacro %}

{#- The audit_dbt_node_results model's query: no row, its columns typed. -#}
{% macro audit_node_results_select() -%}
select
    cast(null as string) as invocation_id,
    cast(null as string) as command,
    cast(null as string) as target_name,
    cast(null as timestamp) as run_started_at,
    cast(null as string) as unique_id,
    cast(null as string) as resource_type,
    cast(null as string) as node_name,
    cast(null as string) as status,
    cast(null as bigint) as rows_affected,
    cast(null as bigint) as failures,
    cast(null as double) as execution_seconds,
    cast(null as string) as message,
    cast(null as timestamp) as recorded_at
where false
{%- endmacro %}

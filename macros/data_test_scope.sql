{#-
  Which rows the data tests read (var data_tests_scope):

    all          every row of every table (a full sweep: `make test-data`, the bundle's nightly
                 dbt_full_sweep job, any `dbt test`);
    newest_load  each test reads what the meta test_scope of its model or source names
                 (test_scope below): on an incremental table, only the rows of its newest load
                 (its greatest loaded_at: the rows the last run added or rewrote; the history
                 was tested by the runs that loaded it), on bronze and staging the rows silver
                 has not taken yet. Tables rebuilt whole on every run (gold marts, dimensions,
                 seeds) have no test_scope and are read whole;
    auto         (default) newest_load in `dbt build`, all elsewhere.

  A full refresh writes one loaded_at everywhere, so its build tests every row either way. The
  bound is read with one query and inlined as a literal, so Delta skips the files of older
  loads by their statistics; that is how a test's cost follows the new data, not the history.
  Each bound is read once per invocation (invocation_scalar): the 15 tests of sales_simple
  share one read of its newest loaded_at instead of scanning the column 15 times.

  dbt wraps the `model` argument of every generic test in get_where_subquery(); this override
  adds the bound to the test's own `where` config (kept as dbt applies it). The singular
  consistency tests limit themselves with silver_newest_load() (below).
-#}
{% macro data_tests_scope() -%}
    {%- set scope = var('data_tests_scope', 'auto') -%}
    {%- if scope not in ['auto', 'all', 'newest_load'] -%}
        {{ exceptions.raise_compiler_error(
            "var data_tests_scope is '" ~ scope ~ "': use auto, all or newest_load") }}
    {%- endif -%}
    {%- if scope == 'auto' -%}
        {%- set scope = 'newest_load' if flags.WHICH == 'build' else 'all' -%}
    {%- endif -%}
    {{- return(scope) -}}
{%- endmacro %}

{#- `loaded_at >= <the newest loaded_at of relation>` when the scope is newest_load, else
    none (also at parse time, in unit tests and for an empty table). -#}
{% macro newest_load_predicate(relation, column='loaded_at') -%}
    {%- if not execute or data_tests_scope() != 'newest_load' -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set value = invocation_scalar("select cast(max(" ~ column ~ ") as string) from " ~ relation) -%}
    {{- return(column ~ " >= timestamp '" ~ value ~ "'" if value is not none else none) -}}
{%- endmacro %}

{#-
  The first value of `sql`, queried once per dbt invocation and kept in the invocation's
  graph (one dict shared by every node of the invocation; a new invocation starts empty). Only
  for bounds the data tests read, which do not change while the tests that read them run:
  a scoped test runs after its model (and silver_bronze_watermark's readers, the tests on
  bronze and staging, before silver is written). Should dbt ever hand each node its own copy
  of the graph, every test queries again: slower, the same result.
-#}
{% macro invocation_scalar(sql) -%}
    {%- set cache = graph.get('lakehouse_invocation_scalars') -%}
    {%- if cache is none or cache.get('invocation_id') != invocation_id -%}
        {%- set cache = {'invocation_id': invocation_id, 'values': {}} -%}
        {%- do graph.update({'lakehouse_invocation_scalars': cache}) -%}
    {%- endif -%}
    {%- if sql not in cache['values'] -%}
        {%- do cache['values'].update({sql: run_query(sql).columns[0].values()[0]}) -%}
    {%- endif -%}
    {{- return(cache['values'][sql]) -}}
{%- endmacro %}

{#- The rows of `relation` a generic test reads, as a predicate (none: every row), from the
    meta `test_scope` of the model or source the test is attached to:
      newest_load  loaded_at >= the table's newest loaded_at (incremental models);
      new_bronze   ingestion_time after the bronze rows silver has already taken (the bronze
                   source and the staging view over it; their tests run before silver in a
                   build); every row in a full refresh. -#}
{% macro test_scope_predicate(relation) -%}
    {%- set scope = test_scope() -%}
    {%- if scope == 'newest_load' -%}
        {{- return(newest_load_predicate(relation)) -}}
    {%- elif scope == 'new_bronze' -%}
        {#- the bronze rows the next silver run reads (bronze_increment_filter) -#}
        {%- set since = silver_bronze_watermark() -%}
        {%- if not since -%}
            {{- return(none) -}}
        {%- endif -%}
        {%- set lookback = var('bronze_lookback_minutes') | int -%}
        {%- set bound = "timestamp '" ~ since ~ "'" -%}
        {{- return("ingestion_time > " ~ (prunable_after(bound) if lookback == 0
            else bound ~ " - interval " ~ lookback ~ " minutes")) -}}
    {%- endif -%}
    {{- return(none) -}}
{%- endmacro %}

{#- The scope of the running generic test (newest_load, new_bronze or none): see above. -#}
{% macro test_scope() -%}
    {%- if not execute or model.resource_type != 'test' or data_tests_scope() != 'newest_load' -%}
        {{- return(none) -}}
    {%- endif -%}
    {#- a test on a source has no attached_node: its one dependency is the source -#}
    {%- set sources = [] -%}
    {%- for unique_id in model.depends_on.nodes if unique_id.startswith('source.') -%}
        {%- do sources.append(unique_id) -%}
    {%- endfor -%}
    {%- set attached = model.get('attached_node') or (sources[0] if sources | length == 1 else '') -%}
    {%- set node = graph.nodes.get(attached) or graph.sources.get(attached) -%}
    {%- if not node -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set scope = (node.get('config', {}).get('meta', {}) or node.get('meta', {})).get('test_scope') -%}
    {%- if scope not in [none, 'newest_load', 'new_bronze'] -%}
        {{- exceptions.raise_compiler_error(
            "meta test_scope of " ~ attached ~ " is '" ~ scope ~ "': use newest_load or new_bronze") -}}
    {%- endif -%}
    {{- return(none if scope == 'new_bronze' and flags.FULL_REFRESH else scope) -}}
{%- endmacro %}

{#- The newest ingestion_time both silver tables have taken from bronze (the lesser of their
    maxima; least() skips an empty one), as a string; none when either table is missing or
    both are empty. Read without ref(): a test on
    bronze runs before the silver models and must not depend on them. -#}
{% macro silver_bronze_watermark() -%}
    {%- set maxima = [] -%}
    {%- for name in ['sales_simple', 'sales_quarantine'] -%}
        {%- set node = graph.nodes.values() | selectattr('resource_type', 'equalto', 'model')
            | selectattr('name', 'equalto', name) | first -%}
        {%- set relation = adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias) -%}
        {%- if relation is none -%}
            {{- return(none) -}}
        {%- endif -%}
        {%- do maxima.append("(select max(ingestion_time) from " ~ relation ~ ")") -%}
    {%- endfor -%}
    {{- return(invocation_scalar("select cast(least(" ~ maxima | join(", ") ~ ") as string)")) -}}
{%- endmacro %}

{% macro get_where_subquery(relation) -%}
    {%- set predicates = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- do predicates.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- set scoped = test_scope_predicate(relation) -%}
    {%- if scoped -%}
        {%- do predicates.append(scoped) -%}
    {%- endif -%}
    {%- if predicates -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ predicates | join(' and ') ~ ') dbt_subquery') -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}

{#-
  The newest silver load, for the consistency tests between bronze and silver (singular
  tests): a dict with
    limited            true when only the newest load is to be checked;
    loaded_at          the newest loaded_at of sales_simple and sales_quarantine together (a
                       timestamp literal): the rows of that load are the rows to check;
    after_older_loads  `and ingestion_time > <since>`: the bronze rows that load read, since
                       = the newest ingestion_time of the older loads plus 1 ms, as the
                       incremental filters bound it (prunable_after: Delta skips older files);
    in_newest_load     `and loaded_at >= <loaded_at>`;
  the two clauses empty (every row checked) when the scope is not newest_load, silver is empty,
  there is no older load (a first build, a full refresh), or bronze_lookback_minutes is not 0
  (a load may then re-read, and replace, rows of older ones). Clauses, not if-blocks in the
  tests: sqlfluff lints every branch.
-#}
{% macro silver_newest_load(sales_simple, sales_quarantine) -%}
    {%- set everything = {'limited': false, 'loaded_at': "timestamp '1970-01-01 00:00:00'",
        'after_older_loads': '', 'in_newest_load': ''} -%}
    {%- if not execute or data_tests_scope() != 'newest_load' or var('bronze_lookback_minutes') | int != 0 -%}
        {{- return(everything) -}}
    {%- endif -%}
    {%- set newest = invocation_scalar(
        "select cast(greatest(" ~
            "(select max(loaded_at) from " ~ sales_simple ~ "), " ~
            "(select max(loaded_at) from " ~ sales_quarantine ~ ")) as string)") -%}
    {%- if newest is none -%}
        {{- return(everything) -}}
    {%- endif -%}
    {%- set loaded_at = "timestamp '" ~ newest ~ "'" -%}
    {%- set since = invocation_scalar(
        "select cast(greatest(" ~
            "(select max(ingestion_time) from " ~ sales_simple ~ " where loaded_at < " ~ loaded_at ~ "), " ~
            "(select max(ingestion_time) from " ~ sales_quarantine ~ " where loaded_at < " ~ loaded_at ~ ")) as string)") -%}
    {%- if since is none -%}
        {{- return(everything) -}}
    {%- endif -%}
    {{- return({'limited': true, 'loaded_at': loaded_at,
        'after_older_loads': 'and ingestion_time > ' ~ prunable_after("timestamp '" ~ since ~ "'"),
        'in_newest_load': 'and loaded_at >= ' ~ loaded_at}) -}}
{%- endmacro %}

{#-
  Seeds on the local targets (dbt-spark: `local` and `warehouse`) are loaded by Spark's own CSV
  reader: one INSERT ... SELECT from the seed file instead of dbt-spark's INSERT ... VALUES in
  batches of literal rows, whose parsing takes Spark ~25 s for the 20,000 rows of `stock`.

  The rows are the ones dbt would insert. dbt reads every column that has a `column_types`
  entry as text, turns '' and 'null' (any case, blanks around) into NULL and keeps any other
  string as written, then casts it to the declared type (dbt-spark's spark__load_csv_rows). This
  does the same in SQL. A seed with a column lacking `column_types` (agate would infer and
  convert its values) goes through dbt-spark's own macro. Both local targets run Spark on this
  machine (the `warehouse` server listens on 127.0.0.1), so Spark reads the file dbt read.
  Databricks loads seeds with dbt-databricks' macro, untouched.
  python_tests/dbt/test_seeds.py checks every seeded table against the CSV, cell by cell.
-#}
{% macro spark__load_csv_rows(model, agate_table) -%}
    {%- if target.type != 'spark' -%}
        {#- dispatch finds this project's macros first, for every adapter prefix -#}
        {{- return(dbt_databricks.databricks__load_csv_rows(model, agate_table)) -}}
    {%- endif -%}
    {%- set column_types = model['config'].get('column_types', {}) -%}
    {%- set path = agate_table.original_abspath -%}
    {%- set typed = agate_table.column_names | reject('in', column_types) | list | length == 0 -%}
    {%- if not (typed and path) -%}
        {{- return(dbt_spark.spark__load_csv_rows(model, agate_table)) -}}
    {%- endif -%}
    {%- set view = '__dbt_seed_csv_' ~ model['alias'] -%}
    {%- set quote_seed_column = model['config'].get('quote_columns', None) -%}
    {%- call statement('seed_csv_view') -%}
        create or replace temporary view {{ view }}
        using csv
        options (
            path '{{ path | replace("\\", "\\\\") | replace("'", "\\'") }}',
            header 'true', sep '{{ model["config"].get("delimiter", ",") }}',
            quote '"', escape '"', multiLine 'true', encoding 'UTF-8', inferSchema 'false',
            mode 'FAILFAST'
        )
    {%- endcall -%}
    {%- set sql -%}
        insert into {{ this.render() }}
        select
        {%- for col_name in agate_table.column_names %}
            {%- set raw = adapter.quote(col_name | string) %}
            cast(
                case when lower(regexp_replace({{ raw }}, '^\\s+|\\s+$', '')) in ('', 'null') then null else {{ raw }} end
                as {{ column_types[col_name] }}
            ) as {{ adapter.quote_seed_column(col_name | string, quote_seed_column) }}
            {%- if not loop.last %},{% endif %}
        {%- endfor %}
        from {{ view }}
    {%- endset -%}
    {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
    {%- do adapter.add_query('drop view if exists ' ~ view) -%}
    {{- return(sql) -}}
{%- endmacro %}

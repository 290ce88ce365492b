{#-
  Seeds on the local targets (dbt-spark) are reloaded only when they changed: a seed whose CSV
  and config are those of its last load (the fingerprint below, kept in the table's properties)
  is left as it is, so an incremental `dbt build` costs no seed writes (five Delta tables
  dropped, created and filled on every run before). `--full-refresh` reloads every seed, and so
  does a seed whose table lost the property (it was written by something else). A seed over
  dbt's checksum limit (dbt then checksums its path, not its contents) is always reloaded.
  Its data tests still read the whole seed (a few thousand rows): a test that failed fails again.
  dbt-databricks keeps its own seed materialization (more specific than this one).
-#}
{% materialization seed, adapter='spark' %}
    {%- set fingerprint = seed_fingerprint(model) -%}
    {%- set old_relation = adapter.get_relation(database=database, schema=schema, identifier=model['alias']) -%}
    {%- if fingerprint and not should_full_refresh() and old_relation is not none and old_relation.is_table
            and seed_loaded_property(old_relation, 'fingerprint') == fingerprint -%}
        {#- the seed runner reads the CSV's table back (`dbt seed --show`) -#}
        {%- do store_result('agate_table', response='OK', agate_table=load_agate_table()) -%}
        {%- call noop_statement('main', 'UNCHANGED', 'UNCHANGED', 0) -%}
            -- {{ this }}: the CSV and config of its last load; not reloaded
        {%- endcall -%}
        {{- return({'relations': [this.incorporate(type='table')]}) -}}
    {%- endif -%}
    {%- set result = dbt.materialization_seed_default() -%}
    {%- if fingerprint -%}
        {%- call statement('seed_fingerprint') -%}
            alter table {{ this }} set tblproperties ('retail_lakehouse.seed.fingerprint' = '{{ fingerprint }}')
        {%- endcall -%}
    {%- endif -%}
    {{- return(result) -}}
{% endmaterialization %}

{#- What a seed's table holds: its CSV's checksum and its config, hashed (none when dbt
    checksummed the file's path, not its contents). -#}
{% macro seed_fingerprint(seed) -%}
    {%- set checksum = seed.get('checksum', {}) -%}
    {%- if checksum.get('name') != 'sha256' -%}
        {{- return(none) -}}
    {%- endif -%}
    {{- return(local_md5(checksum.get('checksum') ~ '|' ~ tojson(seed.get('config', {}), sort_keys=true))) -}}
{%- endmacro %}

{#- A seed table's property retail_lakehouse.seed.<name>, or none. -#}
{% macro seed_loaded_property(relation, name) -%}
    {%- set key = 'retail_lakehouse.seed.' ~ name -%}
    {%- set table = run_query("show tblproperties " ~ relation ~ " ('" ~ key ~ "')") -%}
    {%- for row in table.rows if row[0] == key -%}
        {{- return(row[1]) -}}
    {%- endfor -%}
    {{- return(none) -}}
{%- endmacro %}

{#-
  Layers are schemas with the same name on every target: silver.sales_simple and
  gold.sales_by_day mean the same thing locally and on Databricks. Set DBT_SCHEMA_PREFIX
  (e.g. to your user name on the databricks dev target) to build into <prefix>_silver etc.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set prefix = env_var('DBT_SCHEMA_PREFIX', '') | trim -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- elif prefix -%}
        {{ prefix }}_{{ custom_schema_name | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}

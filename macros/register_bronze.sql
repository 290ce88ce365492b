{#-
  on-run-start: make bronze visible as the table bronze.sales_events on the local targets.
  The streaming job writes bronze by path ($LAKEHOUSE_DIR/bronze/sales_events, or BRONZE_PATH)
  and keeps off the metastore; this registers that path (creating an empty bronze with the
  job's schema when nothing has been ingested yet, so dbt always builds). On Databricks the
  job writes the catalog table itself and this does nothing.
-#}
{% macro register_bronze() -%}
    {%- if target.type == 'spark' and execute -%}
        {%- set path = env_var('BRONZE_PATH', env_var('LAKEHOUSE_DIR') ~ '/bronze/sales_events') -%}
        {%- set schema = env_var('BRONZE_SCHEMA', 'bronze') -%}
        {%- set table = env_var('BRONZE_TABLE', 'sales_events') -%}
        {%- do run_query(
            "create table if not exists delta.`" ~ path ~ "` (" ~ bronze_columns_ddl()
            ~ ") using delta tblproperties (" ~ bronze_table_properties() ~ ")"
        ) -%}
        {%- do run_query("create schema if not exists " ~ schema) -%}
        {%- do run_query(
            "create table if not exists " ~ schema ~ "." ~ table ~ " using delta location '" ~ path ~ "'"
        ) -%}
    {%- endif -%}
{%- endmacro %}

{#- The streaming job's bronze table properties (streaming_ingest/sinks.py TABLE_PROPERTIES; a test checks). -#}
{% macro bronze_table_properties() -%}
    'delta.appendOnly' = 'true',
    'delta.dataSkippingStatsColumns' = 'ingestion_time,kafka_partition,kafka_offset,kafka_timestamp'
{%- endmacro %}

{#- The bronze schema, the same as streaming_ingest/bronze.py BRONZE_SCHEMA (a test checks). -#}
{% macro bronze_columns_ddl() -%}
    record_id string,
    raw_payload string,
    is_json_object boolean,
    transaction_id string,
    event_timestamp string,
    store_id string,
    channel_id string,
    product_id string,
    customer_id string,
    quantity bigint,
    unit_price decimal(18, 6),
    discount_pct decimal(18, 6),
    has_discount_pct boolean,
    payment_method string,
    currency string,
    ingestion_time timestamp,
    source_kind string,
    source_file string,
    source_position bigint,
    kafka_topic string,
    kafka_partition int,
    kafka_offset bigint,
    kafka_timestamp timestamp,
    kafka_key string
{%- endmacro %}

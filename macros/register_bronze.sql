{#-
  on-run-start: make sure the bronze source exists before anything reads it, on every target,
  with the streaming job's schema and layout (streaming_ingest/sinks.py bronze_table_ddl; a
  test creates bronze both ways and compares them). An existing bronze is left as it is.
  - databricks: the catalog table the job writes, source('bronze', 'sales_events') as the
    sources YAML resolves it (<catalog>.<BRONZE_SCHEMA>.<BRONZE_TABLE>). The bundle creates
    the schema; on a fresh deployment dbt may run before the stream has created the table.
  - local targets: the job writes bronze by path ($LAKEHOUSE_DIR/bronze/sales_events, or
    BRONZE_PATH) and keeps off the metastore; this creates that path table if nothing has been
    ingested yet and registers it as the table <BRONZE_SCHEMA>.<BRONZE_TABLE>.
-#}
{% macro register_bronze() -%}
    {%- if execute -%}
        {%- set bronze = bronze_relation() -%}
        {%- if target.type == 'databricks' -%}
            {%- do run_query(bronze_table_ddl(bronze)) -%}
        {%- elif target.type == 'spark' -%}
            {%- set path = env_var('BRONZE_PATH', env_var('LAKEHOUSE_DIR') ~ '/bronze/sales_events') -%}
            {%- do run_query(bronze_table_ddl("delta.`" ~ path ~ "`")) -%}
            {%- do run_query("create schema if not exists " ~ bronze.schema) -%}
            {%- do run_query(
                "create table if not exists " ~ bronze.schema ~ "." ~ bronze.identifier
                ~ " using delta location '" ~ path ~ "'"
            ) -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- source('bronze', 'sales_events') as the sources YAML resolves it (hooks cannot call source()). -#}
{% macro bronze_relation() -%}
    {%- set node = graph.sources['source.' ~ project_name ~ '.bronze.sales_events'] -%}
    {{- return(api.Relation.create(database=node.database, schema=node.schema, identifier=node.identifier)) -}}
{%- endmacro %}

{#- `dbt run-operation show_bronze_ddl [--target ...]` logs the CREATE that register_bronze runs on
    the databricks target (no connection needed). -#}
{% macro show_bronze_ddl() -%}
    {{- log(bronze_table_ddl(bronze_relation()), info=True) -}}
{%- endmacro %}

{#- CREATE TABLE IF NOT EXISTS for bronze, the same statement as the job's (sinks.py bronze_table_ddl). -#}
{% macro bronze_table_ddl(table) -%}
create table if not exists {{ table }} (
    {{ bronze_columns_ddl() }}
) using delta
cluster by ({{ bronze_cluster_by() }})
comment 'Bronze sales events: one row per received message, append-only.'
tblproperties ({{ bronze_table_properties() }})
{%- endmacro %}

{#- The streaming job's bronze table properties (streaming_ingest/sinks.py TABLE_PROPERTIES). -#}
{% macro bronze_table_properties() -%}
    'delta.appendOnly' = 'true',
    'delta.dataSkippingStatsColumns' = 'ingestion_time,kafka_partition,kafka_offset,kafka_timestamp'
{%- endmacro %}

{#- The streaming job's liquid clustering columns (streaming_ingest/sinks.py CLUSTER_BY). -#}
{% macro bronze_cluster_by() -%}
    ingestion_time
{%- endmacro %}

{#- The bronze schema, the same as streaming_ingest/bronze.py BRONZE_SCHEMA. -#}
{% macro bronze_columns_ddl() -%}
    record_id string not null,
    raw_payload string,
    is_json_object boolean not null,
    transaction_id string,
    event_timestamp string,
    store_id string,
    channel_id string,
    product_id string,
    customer_id string,
    quantity bigint,
    unit_price decimal(18, 6),
    discount_pct decimal(18, 6),
    has_discount_pct boolean not null,
    payment_method string,
    currency string,
    ingestion_time timestamp not null,
    source_kind string not null,
    source_file string,
    source_position bigint,
    kafka_topic string,
    kafka_partition int,
    kafka_offset bigint,
    kafka_timestamp timestamp,
    kafka_key string,
    eventhub_partition int,
    eventhub_sequence_number bigint,
    eventhub_offset string,
    eventhub_enqueued_time timestamp
{%- endmacro %}

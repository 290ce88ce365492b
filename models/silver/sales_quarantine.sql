{{
    config(
        unique_key='record_id',
        incremental_strategy='append',
        on_schema_change='fail',
    )
}}

{%- do ref('sales_simple') %}
{#-
  Built after sales_simple (the ref above makes it a parent; it is not read): then the newest
  ingestion_time in sales_simple is bronze both silver tables have processed, which the
  consistency tests and the audit's pipeline health count up to (macros/consistency.sql silver_cutoff).

  Every bronze row that breaks a contract rule, with the first failing rule as its reason.
  Incremental runs append the new bronze rows' failures; rows a lookback re-reads are
  recognised by record_id and skipped, so appending never doubles a row.
-#}
with

events as (

    select * from {{ ref('stg_bronze__sales_events') }}
    where not is_valid
        {% if is_incremental() %}
        and {{ bronze_increment_filter() }}
        {% endif %}

),

new_events as (

    -- rows re-read by the lookback window are already in the table
    select events.*
    from events
    {% if is_incremental() %}
    left anti join {{ this }} as existing
        on events.record_id = existing.record_id
    {% endif %}

),

final as (

    select
        -- keys
        record_id,
        transaction_id,

        -- why
        rejection_reason,

        -- what arrived
        raw_payload,
        event_timestamp_raw,
        store_id,
        channel_id,
        product_id,
        customer_id,

        -- lineage
        ingestion_time,
        source_kind,
        source_file,
        source_position,
        kafka_topic,
        kafka_partition,
        kafka_offset,
        kafka_timestamp,
        {{ run_loaded_at() }} as loaded_at

    from new_events

)

select * from final

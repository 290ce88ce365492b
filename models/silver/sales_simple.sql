{{
    config(
        unique_key='transaction_id',
        incremental_strategy='merge',
        on_schema_change='fail',
    )
}}

{#-
  The valid sales, exactly one row per transaction_id: among valid bronze rows with the same
  transaction_id the first ingested wins (earliest ingestion_time, then source order: landing
  file and line, or Kafka partition and offset). Later copies are duplicates and are dropped
  (counted by the conservation test).

  Incremental runs rank the new bronze rows together with the rows already in silver for the
  same transaction_ids, so "first ingested" holds across runs; only a new winner is merged
  (MERGE never sees two source rows for one target row).
-#}
with

events as (

    select * from {{ ref('stg_bronze__sales_events') }}
    where is_valid
        {% if is_incremental() %}
        and {{ bronze_increment_filter() }}
        {% endif %}

),

candidates as (

    select
        *,
        false as is_loaded,
        {{ run_loaded_at() }} as loaded_at
    from events

    {% if is_incremental() %}
    union all

    select
        existing.record_id,
        existing.transaction_id,
        existing.store_id,
        existing.channel_id,
        existing.product_id,
        existing.customer_id,
        cast(null as string) as rejection_reason,
        true as is_valid,
        existing.event_timestamp_raw,
        existing.event_at,
        existing.sales_date,
        existing.quantity,
        existing.unit_price,
        existing.discount_pct,
        existing.payment_method,
        existing.currency,
        existing.total_amount,
        existing.ticket_category,
        existing.raw_payload,
        existing.ingestion_time,
        existing.source_kind,
        existing.source_file,
        existing.source_position,
        existing.kafka_topic,
        existing.kafka_partition,
        existing.kafka_offset,
        existing.kafka_timestamp,
        true as is_loaded,
        existing.loaded_at
    from {{ this }} as existing
    left semi join events
        on existing.transaction_id = events.transaction_id
    {% endif %}

),

ranked as (

    select
        *,
        row_number() over (
            partition by transaction_id
            order by
                ingestion_time asc,
                source_file asc,
                source_position asc,
                kafka_partition asc,
                kafka_offset asc,
                record_id asc,
                is_loaded desc
        ) as copy_number
    from candidates

),

final as (

    select
        -- keys
        transaction_id,
        record_id,
        store_id,
        channel_id,
        product_id,
        customer_id,

        -- sale
        event_at,
        sales_date,
        quantity,
        unit_price,
        discount_pct,
        total_amount,
        ticket_category,
        payment_method,
        currency,
        {{ transaction_hash() }} as transaction_hash,

        -- lineage
        event_timestamp_raw,
        raw_payload,
        ingestion_time,
        source_kind,
        source_file,
        source_position,
        kafka_topic,
        kafka_partition,
        kafka_offset,
        kafka_timestamp,
        loaded_at

    from ranked
    where copy_number = 1
        and not is_loaded

)

select * from final

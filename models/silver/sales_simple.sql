{{
    config(
        unique_key='transaction_id',
        incremental_strategy=row_model_strategy(),
        on_schema_change='fail',
    )
}}

{#-
  The valid sales, exactly one row per transaction_id: among valid bronze rows with the same
  transaction_id the first ingested wins (earliest ingestion_time, then source order: landing
  file and line, or Kafka partition and offset). Later copies are duplicates and are dropped
  (counted by the conservation test).

  Incremental runs rank the new bronze rows together with the rows already in silver for the
  same transaction_ids, so "first ingested" holds across runs; only a new winner is written
  (MERGE never sees two source rows for one target row). With bronze_lookback_minutes 0 a
  new winner is always a new transaction_id, so the run appends (row_model_strategy).
-#}
with

events as (

    select * from {{ ref('stg_bronze__sales_events') }}
    where is_valid
        {% if is_incremental() %}
        and {{ bronze_increment_filter() }}
        {% endif %}

),

ranking as (

    -- what "first ingested" compares: the new rows, and the rows already in silver for the
    -- same transaction_ids (only their ordering columns: they are never written again)
    select
        transaction_id,
        record_id,
        ingestion_time,
        source_file,
        source_position,
        kafka_partition,
        kafka_offset,
        false as is_loaded
    from events

    {% if is_incremental() %}
    union all

    select
        existing.transaction_id,
        existing.record_id,
        existing.ingestion_time,
        existing.source_file,
        existing.source_position,
        existing.kafka_partition,
        existing.kafka_offset,
        true as is_loaded
    from {{ this }} as existing
    left semi join events
        on existing.transaction_id = events.transaction_id
    {% endif %}

),

winners as (

    -- new rows that are the first copy of their transaction_id
    select record_id
    from (
        select
            record_id,
            is_loaded,
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
        from ranking
    ) as ranked
    where copy_number = 1
        and not is_loaded

),

new_winners as (

    select events.*
    from events
    left semi join winners
        on events.record_id = winners.record_id

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
        {{ run_loaded_at() }} as loaded_at

    from new_winners

)

select * from final

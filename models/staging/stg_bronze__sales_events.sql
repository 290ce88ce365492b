{#-
  One row per bronze row, with the contract's validation applied: `rejection_reason` is the
  first failing rule in the contract's order (null = valid), plus the derived values of a
  valid sale. No joins, no aggregation: silver models decide what to keep.
-#}
with

source as (

    select * from {{ source('bronze', 'sales_events') }}

),

typed as (

    select
        -- keys
        record_id,
        transaction_id,
        store_id,
        channel_id,
        product_id,
        customer_id,

        -- payload
        raw_payload,
        is_json_object,
        event_timestamp as event_timestamp_raw,
        {{ parse_event_timestamp('event_timestamp') }} as event_at,
        quantity,
        unit_price,
        discount_pct,
        has_discount_pct,
        payment_method,
        currency,

        -- lineage
        ingestion_time,
        source_kind,
        source_file,
        source_position,
        kafka_topic,
        kafka_partition,
        kafka_offset,
        kafka_timestamp

    from source

),

amounts as (

    select
        *,
        case
            when quantity >= 1 and unit_price >= 0
                then {{ sales_amount('quantity', 'unit_price', 'discount_pct') }}
        end as total_amount

    from typed

),

validated as (

    select
        *,
        case
            when not is_json_object then 'malformed_json'
            when {{ is_blank('transaction_id') }} then 'missing_transaction_id'
            when event_at is null then 'invalid_timestamp'
            when event_at > ingestion_time + interval {{ var('future_tolerance_hours') | int }} hours
                then 'future_timestamp'
            when quantity is null or quantity < 1 then 'invalid_quantity'
            when unit_price is null or unit_price < 0 then 'invalid_price'
            when has_discount_pct and (discount_pct is null or discount_pct < 0 or discount_pct >= 1)
                then 'invalid_discount'
            when {{ is_blank('store_id') }} or {{ is_blank('channel_id') }} or {{ is_blank('product_id') }}
                then 'missing_reference'
            when currency is null or currency != 'USD' then 'unsupported_currency'
            -- after the contract's rules: a valid sale whose total_amount does not fit decimal(18,2)
            when total_amount is null then 'amount_out_of_range'
        end as rejection_reason

    from amounts

),

final as (

    select
        -- keys
        record_id,
        transaction_id,
        store_id,
        channel_id,
        product_id,
        customer_id,

        -- validation
        rejection_reason,
        rejection_reason is null as is_valid,

        -- sale
        event_timestamp_raw,
        event_at,
        {{ utc_date('event_at') }} as sales_date,
        quantity,
        unit_price,
        coalesce(discount_pct, 0) as discount_pct,
        payment_method,
        currency,
        case when rejection_reason is null then total_amount end as total_amount,
        case when rejection_reason is null then {{ ticket_category('total_amount') }} end as ticket_category,

        -- lineage
        raw_payload,
        ingestion_time,
        source_kind,
        source_file,
        source_position,
        kafka_topic,
        kafka_partition,
        kafka_offset,
        kafka_timestamp

    from validated

)

select * from final

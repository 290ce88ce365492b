{{
    config(
        materialized='incremental',
        unique_key='transaction_id',
        incremental_strategy=row_model_strategy(),
        on_schema_change='fail',
    )
}}

{#-
  One row per sale (a valid, deduplicated transaction of silver), keyed to every dimension by
  its natural id (macros/star.sql): an id missing from its seed points at the dimension's
  inferred member, a null customer_id (anonymous sale) at the '-1' member, so an inner join to
  any dimension keeps every row. Incremental like the silver it reads: the sales_enriched rows
  loaded since the newest loaded_at here, appended (row_model_strategy), or merged on
  transaction_id with a bronze lookback (a replaced winner in silver comes back with a new
  loaded_at and is merged over its old row). Should sales_enriched have changed beyond new
  rows, the append skips transaction_ids already here.
-#}
{%- set skip_loaded = is_incremental() and row_model_strategy() == 'append'
    and not upstream_only_gained_rows(ref('sales_enriched'), 'appending only the transaction_ids not here yet') %}

with

upstream as (

    select * from {{ ref('sales_enriched') }}
    {% if is_incremental() %}
    where {{ loaded_after_filter() }}
    {% endif %}

),

sales as (

    select upstream.*
    from upstream
    {% if skip_loaded %}
    left anti join {{ this }} as loaded
        on upstream.transaction_id = loaded.transaction_id
    {% endif %}

),

final as (

    select
        -- keys
        transaction_id,
        {{ date_key('sales_date') }} as date_key,
        {{ star_key('product_id') }} as product_key,
        {{ star_key('store_id') }} as store_key,
        {{ star_key('channel_id') }} as channel_key,
        {{ star_key('customer_id') }} as customer_key,

        -- sale
        sales_date,
        event_at,
        ticket_category,
        payment_method,

        -- measures
        cast(quantity as bigint) as quantity,
        cast(unit_price as decimal(18, 6)) as unit_price,
        cast(discount_pct as decimal(18, 6)) as discount_pct,
        cast(total_amount as decimal(18, 2)) as total_amount,
        cast(unit_cost as decimal(18, 2)) as unit_cost,
        try_cast(quantity * unit_cost as decimal(18, 2)) as cost_amount,
        try_cast(total_amount - quantity * unit_cost as decimal(18, 2)) as gross_margin,

        -- lineage
        loaded_at

    from sales

)

select * from final

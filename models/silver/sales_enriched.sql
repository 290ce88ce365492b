{{
    config(
        unique_key='transaction_id',
        incremental_strategy=row_model_strategy(),
        on_schema_change='fail',
    )
}}

{#-
  sales_simple LEFT JOIN the five dimensions. An id missing from its dimension keeps the sale
  with null attributes and a has_unknown_* flag; no row is ever dropped. Dimension changes
  (new seeds) reach rows already enriched with `dbt build --full-refresh -s sales_enriched+`.
  Incremental: the sales_simple rows loaded since the newest loaded_at here, appended
  (row_model_strategy; merged on transaction_id with a bronze lookback). Should sales_simple
  have changed beyond new rows (rebuilt alone), the append skips transaction_ids already here.
-#}
{%- set skip_loaded = is_incremental() and row_model_strategy() == 'append'
    and not upstream_only_gained_rows(ref('sales_simple'), 'appending only the transaction_ids not here yet') %}

with

upstream as (

    select * from {{ ref('sales_simple') }}
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

products as (

    select * from {{ ref('products') }}

),

stock as (

    select * from {{ ref('stock') }}

),

stores as (

    select * from {{ ref('stores') }}

),

channels as (

    select * from {{ ref('channels') }}

),

customers as (

    select * from {{ ref('customers') }}

),

final as (

    select
        -- keys
        sales.transaction_id,
        sales.store_id,
        sales.channel_id,
        sales.product_id,
        sales.customer_id,

        -- sale
        sales.event_at,
        sales.sales_date,
        sales.quantity,
        sales.unit_price,
        sales.discount_pct,
        sales.total_amount,
        sales.ticket_category,
        sales.payment_method,
        sales.currency,
        sales.transaction_hash,

        -- product
        products.product_name,
        products.category,
        products.brand,
        products.unit_cost,
        products.list_price,
        stock.quantity_on_hand,

        -- store
        stores.store_name,
        stores.city as store_city,
        stores.region,
        stores.country,

        -- channel
        channels.channel_name,
        channels.channel_type,

        -- customer
        customers.first_name as customer_first_name,
        customers.last_name as customer_last_name,
        customers.segment as customer_segment,

        -- data quality flags
        products.product_id is null as has_unknown_product,
        stores.store_id is null as has_unknown_store,
        channels.channel_id is null as has_unknown_channel,
        sales.customer_id is not null and customers.customer_id is null as has_unknown_customer,
        sales.customer_id is null as is_anonymous,

        -- lineage
        sales.ingestion_time,
        sales.loaded_at

    from sales
    left join products
        on sales.product_id = products.product_id
    left join stock
        on sales.product_id = stock.product_id
            and sales.store_id = stock.store_id
    left join stores
        on sales.store_id = stores.store_id
    left join channels
        on sales.channel_id = channels.channel_id
    left join customers
        on sales.customer_id = customers.customer_id

)

select * from final

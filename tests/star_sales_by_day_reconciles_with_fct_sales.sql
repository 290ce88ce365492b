{{ config(tags=["star"]) }}

-- The KPI mart and the star agree: sales_by_day equals fct_sales summed by the same keys
-- (sales_date, channel_id, store region), row for row both ways. The fact is joined to its
-- dimensions with inner joins, so a sale that failed to join any dimension shows up here too.
-- The star's sums are exact; the mart's units / total_amount are null where a sum does not fit
-- the column (bigint / decimal(18,2)), which is then what the star's sum must show.
with

facts as (

    select
        dim_date.calendar_date as sales_date,
        dim_channel.channel_key as channel_id,
        dim_store.region,
        fct_sales.quantity,
        fct_sales.total_amount
    from {{ ref('fct_sales') }} as fct_sales
    inner join {{ ref('dim_date') }} as dim_date
        on fct_sales.date_key = dim_date.date_key
    inner join {{ ref('dim_channel') }} as dim_channel
        on fct_sales.channel_key = dim_channel.channel_key
    inner join {{ ref('dim_store') }} as dim_store
        on fct_sales.store_key = dim_store.store_key
    inner join {{ ref('dim_product') }} as dim_product
        on fct_sales.product_key = dim_product.product_key
    inner join {{ ref('dim_customer') }} as dim_customer
        on fct_sales.customer_key = dim_customer.customer_key

),

star as (

    select
        sales_date,
        channel_id,
        region,
        count(*) as transactions,
        try_sum(cast(quantity as decimal(38, 0))) as units,
        try_sum(cast(total_amount as decimal(38, 2))) as total_amount
    from facts
    group by sales_date, channel_id, region

),

mart as (

    select
        sales_date,
        channel_id,
        region,
        transactions,
        units,
        total_amount
    from {{ ref('sales_by_day') }}

),

compared as (

    select
        coalesce(mart.sales_date, star.sales_date) as sales_date,
        coalesce(mart.channel_id, star.channel_id) as channel_id,
        coalesce(mart.region, star.region) as region,
        mart.transactions as mart_transactions,
        star.transactions as star_transactions,
        mart.units as mart_units,
        star.units as star_units,
        mart.total_amount as mart_total_amount,
        star.total_amount as star_total_amount
    from mart
    full outer join star
        on mart.sales_date = star.sales_date
            and mart.channel_id = star.channel_id
            and mart.region = star.region

)

select * from compared
where not (
        coalesce(mart_transactions = star_transactions, false)
        and coalesce(mart_units = star_units, mart_units is null and {{ units('star_units') }} is null)
        and coalesce(
            mart_total_amount = star_total_amount,
            mart_total_amount is null and {{ money('star_total_amount') }} is null
        )
    )

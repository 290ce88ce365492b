-- The three gold marts add up to the same totals as sales_enriched. Sums are exact (in types no
-- sum of sales overflows, so nothing raises under ANSI mode). A mart's measure is null where its
-- value does not fit the column (bigint units, decimal(18,2) money); amounts and units are never
-- negative, so that can only happen when silver's total does not fit either: a measure is
-- compared unless silver's total is beyond its column's range.
with

silver as (

    select
        count(*) as transactions,
        try_sum(cast(quantity as decimal(38, 0))) as units,
        try_sum(cast(total_amount as decimal(38, 2))) as amount
    from {{ ref('sales_enriched') }}

),

by_day as (

    select
        sum(transactions) as transactions,
        try_sum(cast(units as decimal(38, 0))) as units,
        try_sum(cast(total_amount as decimal(38, 2))) as amount
    from {{ ref('sales_by_day') }}

),

by_product as (

    select
        sum(transactions) as transactions,
        try_sum(cast(units_sold as decimal(38, 0))) as units,
        try_sum(cast(revenue as decimal(38, 2))) as amount
    from {{ ref('product_performance') }}

),

identified as (

    select
        count(*) as transactions,
        try_sum(cast(total_amount as decimal(38, 2))) as amount
    from {{ ref('sales_enriched') }}
    where customer_id is not null

),

by_customer as (

    select
        sum(purchases) as transactions,
        try_sum(cast(total_spent as decimal(38, 2))) as amount
    from {{ ref('top_customers') }}

),

checks as (

    select 'sales_by_day' as mart
    from silver cross join by_day
    where not (
            silver.transactions = coalesce(by_day.transactions, 0)
            and ({{ units('silver.units') }} is null or coalesce(silver.units, 0) = coalesce(by_day.units, 0))
            and ({{ money('silver.amount') }} is null or coalesce(silver.amount, 0) = coalesce(by_day.amount, 0))
        )
    union all
    select 'product_performance' as mart
    from silver cross join by_product
    where not (
            silver.transactions = coalesce(by_product.transactions, 0)
            and ({{ units('silver.units') }} is null or coalesce(silver.units, 0) = coalesce(by_product.units, 0))
            and ({{ money('silver.amount') }} is null or coalesce(silver.amount, 0) = coalesce(by_product.amount, 0))
        )
    union all
    select 'top_customers' as mart
    from identified cross join by_customer
    where not (
            identified.transactions = coalesce(by_customer.transactions, 0)
            and (
                {{ money('identified.amount') }} is null
                or coalesce(identified.amount, 0) = coalesce(by_customer.amount, 0)
            )
        )

)

select * from checks

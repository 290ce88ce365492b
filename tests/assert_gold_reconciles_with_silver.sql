-- The three gold marts add up to the same totals as sales_enriched.
with

silver as (

    select
        count(*) as transactions,
        sum(quantity) as units,
        sum(total_amount) as amount
    from {{ ref('sales_enriched') }}

),

by_day as (

    select
        sum(transactions) as transactions,
        sum(units) as units,
        sum(total_amount) as amount
    from {{ ref('sales_by_day') }}

),

by_product as (

    select
        sum(transactions) as transactions,
        sum(units_sold) as units,
        sum(revenue) as amount
    from {{ ref('product_performance') }}

),

identified as (

    select
        count(*) as transactions,
        sum(total_amount) as amount
    from {{ ref('sales_enriched') }}
    where customer_id is not null

),

by_customer as (

    select
        sum(purchases) as transactions,
        sum(total_spent) as amount
    from {{ ref('top_customers') }}

),

checks as (

    select 'sales_by_day' as mart
    from silver cross join by_day
    where not (
            silver.transactions = coalesce(by_day.transactions, 0)
            and coalesce(silver.units, 0) = coalesce(by_day.units, 0)
            and coalesce(silver.amount, 0) = coalesce(by_day.amount, 0)
        )
    union all
    select 'product_performance' as mart
    from silver cross join by_product
    where not (
            silver.transactions = coalesce(by_product.transactions, 0)
            and coalesce(silver.units, 0) = coalesce(by_product.units, 0)
            and coalesce(silver.amount, 0) = coalesce(by_product.amount, 0)
        )
    union all
    select 'top_customers' as mart
    from identified cross join by_customer
    where not (
            identified.transactions = coalesce(by_customer.transactions, 0)
            and coalesce(identified.amount, 0) = coalesce(by_customer.amount, 0)
        )

)

select * from checks

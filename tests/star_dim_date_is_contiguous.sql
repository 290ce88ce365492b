{{ config(tags=["star"]) }}

-- dim_date is a spine without gaps: one row per day from its first to its last date, and it
-- covers every sales_date of silver.
with

days as (

    select calendar_date from {{ ref('dim_date') }}
    where not is_unknown

),

spine as (

    select
        min(calendar_date) as first_date,
        max(calendar_date) as last_date,
        count(*) as day_rows,
        count(distinct calendar_date) as distinct_days
    from days

),

sales as (

    select
        min(sales_date) as first_sales_date,
        max(sales_date) as last_sales_date
    from {{ ref('sales_enriched') }}

)

select
    spine.first_date,
    spine.last_date,
    spine.day_rows,
    sales.first_sales_date,
    sales.last_sales_date
from spine
cross join sales
where spine.day_rows != datediff(spine.last_date, spine.first_date) + 1
    or spine.distinct_days != spine.day_rows
    or spine.first_date > sales.first_sales_date
    or spine.last_date < sales.last_sales_date

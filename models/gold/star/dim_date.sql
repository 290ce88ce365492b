{#-
  A generated calendar (date spine), one row per day, plus the unknown member (date_key -1).
  The spine covers the sales in silver: from 1 January of the first sales_date's year to
  31 December of the last one's (var dim_date_full_years; false = exactly min..max). With no
  sales yet it covers the current year. Weeks are ISO weeks (Monday first).
-#}
with

sales as (

    -- the days with sales (one row per channel and region), not all of silver
    select sales_date from {{ ref('int_sales_by_day') }}

),

sales_range as (

    select
        coalesce(min(sales_date), current_date()) as first_sales_date,
        coalesce(max(sales_date), current_date()) as last_sales_date
    from sales

),

bounds as (

    -- whole calendar years (dim_date_full_years), or exactly the sales range
    select
        case
            when {{ 'true' if var('dim_date_full_years') else 'false' }}
                then make_date(year(first_sales_date), 1, 1)
            else first_sales_date
        end as start_date,
        case
            when {{ 'true' if var('dim_date_full_years') else 'false' }}
                then make_date(year(last_sales_date), 12, 31)
            else last_sales_date
        end as end_date
    from sales_range

),

spine as (

    select explode(sequence(start_date, end_date, interval 1 day)) as calendar_date
    from bounds

),

days as (

    select
        -- keys
        {{ date_key('calendar_date') }} as date_key,
        calendar_date,

        -- day
        weekday(calendar_date) + 1 as day_of_week,
        date_format(calendar_date, 'EEEE') as day_name,
        dayofmonth(calendar_date) as day_of_month,
        dayofyear(calendar_date) as day_of_year,
        weekday(calendar_date) >= 5 as is_weekend,

        -- week (ISO: Monday first; the week belongs to the year of its Thursday)
        date_sub(calendar_date, weekday(calendar_date)) as week_start_date,
        weekofyear(calendar_date) as iso_week_of_year,
        year(date_add(calendar_date, 3 - weekday(calendar_date))) as iso_year,

        -- month
        month(calendar_date) as month_of_year,
        date_format(calendar_date, 'MMMM') as month_name,
        trunc(calendar_date, 'MM') as month_start_date,
        date_format(calendar_date, 'yyyy-MM') as year_month,

        -- quarter and year
        quarter(calendar_date) as quarter_of_year,
        concat('Q', quarter(calendar_date)) as quarter_name,
        trunc(calendar_date, 'quarter') as quarter_start_date,
        year(calendar_date) as calendar_year,

        -- flags
        false as is_unknown

    from spine

),

unknown_member as (

    select
        -1 as date_key,
        cast(null as date) as calendar_date,
        cast(null as int) as day_of_week,
        'unknown' as day_name,
        cast(null as int) as day_of_month,
        cast(null as int) as day_of_year,
        cast(null as boolean) as is_weekend,
        cast(null as date) as week_start_date,
        cast(null as int) as iso_week_of_year,
        cast(null as int) as iso_year,
        cast(null as int) as month_of_year,
        'unknown' as month_name,
        cast(null as date) as month_start_date,
        'unknown' as year_month,
        cast(null as int) as quarter_of_year,
        'unknown' as quarter_name,
        cast(null as date) as quarter_start_date,
        cast(null as int) as calendar_year,
        true as is_unknown

),

members as (

    select * from days
    union all
    select * from unknown_member

),

final as (

    select
        -- keys
        cast(date_key as int) as date_key,
        cast(calendar_date as date) as calendar_date,

        -- day
        cast(day_of_week as int) as day_of_week,
        cast(day_name as string) as day_name,
        cast(day_of_month as int) as day_of_month,
        cast(day_of_year as int) as day_of_year,
        is_weekend,

        -- week
        cast(week_start_date as date) as week_start_date,
        cast(iso_week_of_year as int) as iso_week_of_year,
        cast(iso_year as int) as iso_year,

        -- month
        cast(month_of_year as int) as month_of_year,
        cast(month_name as string) as month_name,
        cast(month_start_date as date) as month_start_date,
        cast(year_month as string) as year_month,

        -- quarter and year
        cast(quarter_of_year as int) as quarter_of_year,
        cast(quarter_name as string) as quarter_name,
        cast(quarter_start_date as date) as quarter_start_date,
        cast(calendar_year as int) as calendar_year,

        -- flags
        is_unknown

    from members

)

select * from final

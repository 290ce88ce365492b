with

daily as (

    select * from {{ ref('int_sales_by_day') }}

),

final as (

    select
        -- keys
        sales_date,
        channel_id,
        coalesce(channel_name, 'unknown') as channel_name,
        region,

        -- measures
        cast(transactions as bigint) as transactions,
        cast(units as bigint) as units,
        cast(total_amount as decimal(18, 2)) as total_amount,
        {{ average_amount('total_amount', 'transactions') }} as avg_ticket

    from daily

)

select * from final

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
        -- (null when the exact sum does not fit the column's type: see the model's YAML)
        cast(transactions as bigint) as transactions,
        {{ units('units') }} as units,
        {{ money('total_amount') }} as total_amount,
        {{ average_amount(money('total_amount'), 'transactions') }} as avg_ticket

    from daily

)

select * from final

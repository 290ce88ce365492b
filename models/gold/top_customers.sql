with

customer_sales as (

    select * from {{ ref('int_customer_sales') }}

),

customers as (

    select * from {{ ref('customers') }}

),

final as (

    select
        -- keys
        customer_sales.customer_id,

        -- attributes
        concat(customers.first_name, ' ', customers.last_name) as customer_name,
        customers.segment,

        -- measures
        cast(customer_sales.purchases as bigint) as purchases,
        -- (null when the exact sum does not fit decimal(18,2): see the model's YAML)
        {{ money('customer_sales.total_spent') }} as total_spent,
        {{ average_amount(money('customer_sales.total_spent'), 'customer_sales.purchases') }} as avg_ticket,

        -- timestamps
        customer_sales.first_purchase_at,
        customer_sales.last_purchase_at,

        -- rank
        cast(
            row_number() over (
                order by customer_sales.total_spent desc, customer_sales.customer_id asc
            ) as int
        ) as spend_rank

    from customer_sales
    left join customers
        on customer_sales.customer_id = customers.customer_id

)

select * from final

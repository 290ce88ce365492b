with

product_sales as (

    select * from {{ ref('int_product_sales') }}

),

products as (

    select * from {{ ref('products') }}

),

final as (

    select
        -- keys
        product_sales.product_id,

        -- attributes
        products.product_name,
        products.category,

        -- measures
        cast(product_sales.transactions as bigint) as transactions,
        -- (null when the exact value does not fit the column's type: see the model's YAML)
        {{ units('product_sales.units_sold') }} as units_sold,
        {{ money('product_sales.revenue') }} as revenue,
        {{ average_amount(money('product_sales.revenue'), 'product_sales.transactions') }} as avg_ticket,
        {{ money(
            'try_subtract(product_sales.revenue, try_multiply(product_sales.units_sold, products.unit_cost))'
        ) }} as gross_margin,

        -- rank
        cast(
            row_number() over (
                order by product_sales.revenue desc, product_sales.product_id asc
            ) as int
        ) as revenue_rank

    from product_sales
    left join products
        on product_sales.product_id = products.product_id

)

select * from final

{#-
  One row per product: every product of the seed, one inferred member per product_id seen in
  sales but missing from the seed (attributes `unknown`, is_unknown), and the '-1' member.
  See macros/star.sql for the key rules.
-#}
with

products as (

    select * from {{ ref('products') }}

),

sales as (

    -- the product ids seen in sales (one row each), not all of silver
    select product_id from {{ ref('int_product_sales') }}

),

known as (

    select
        product_id as product_key,
        product_id,
        product_name,
        category,
        brand,
        unit_cost,
        list_price,
        false as is_unknown
    from products

),

inferred as (

    -- product_ids seen in sales that the seed does not have: one member each
    select distinct
        sales.product_id as product_key,
        sales.product_id,
        'unknown' as product_name,
        'unknown' as category,
        'unknown' as brand,
        cast(null as decimal(18, 2)) as unit_cost,
        cast(null as decimal(18, 2)) as list_price,
        true as is_unknown
    from sales
    left anti join products
        on sales.product_id = products.product_id
    where sales.product_id is not null
        and sales.product_id != {{ unknown_member_key() }}

),

unknown_member as (

    select
        {{ unknown_member_key() }} as product_key,
        cast(null as string) as product_id,
        'unknown' as product_name,
        'unknown' as category,
        'unknown' as brand,
        cast(null as decimal(18, 2)) as unit_cost,
        cast(null as decimal(18, 2)) as list_price,
        true as is_unknown

),

members as (

    select * from known
    union all
    select * from inferred
    union all
    select * from unknown_member

),

final as (

    select
        -- keys
        cast(product_key as string) as product_key,
        cast(product_id as string) as product_id,

        -- attributes
        cast(product_name as string) as product_name,
        cast(category as string) as category,
        cast(brand as string) as brand,

        -- amounts
        cast(unit_cost as decimal(18, 2)) as unit_cost,
        cast(list_price as decimal(18, 2)) as list_price,

        -- flags
        is_unknown

    from members

)

select * from final

{#-
  One row per store: every store of the seed, one inferred member per store_id seen in sales
  but missing from the seed (attributes `unknown`, is_unknown), and the '-1' member.
  See macros/star.sql for the key rules.
-#}
with

stores as (

    select * from {{ ref('stores') }}

),

sales as (

    -- the store ids seen in sales (one row each), not all of silver
    select store_id from {{ ref('int_store_sales') }}

),

known as (

    select
        store_id as store_key,
        store_id,
        store_name,
        city,
        region,
        country,
        false as is_unknown
    from stores

),

inferred as (

    -- store_ids seen in sales that the seed does not have: one member each
    select distinct
        sales.store_id as store_key,
        sales.store_id,
        'unknown' as store_name,
        'unknown' as city,
        'unknown' as region,
        'unknown' as country,
        true as is_unknown
    from sales
    left anti join stores
        on sales.store_id = stores.store_id
    where sales.store_id is not null
        and sales.store_id != {{ unknown_member_key() }}

),

unknown_member as (

    select
        {{ unknown_member_key() }} as store_key,
        cast(null as string) as store_id,
        'unknown' as store_name,
        'unknown' as city,
        'unknown' as region,
        'unknown' as country,
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
        cast(store_key as string) as store_key,
        cast(store_id as string) as store_id,

        -- attributes
        cast(store_name as string) as store_name,
        cast(city as string) as city,
        cast(region as string) as region,
        cast(country as string) as country,

        -- flags
        is_unknown

    from members

)

select * from final

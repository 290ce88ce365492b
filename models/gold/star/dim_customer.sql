{#-
  One row per customer, without personal data: no names, no city, and the e-mail masked to
  its domain (mask_email). Members: every customer of the seed, one inferred member per
  customer_id seen in sales but missing from the seed (segment `unknown`, is_unknown), and the
  '-1' member for anonymous sales (no customer_id). See macros/star.sql for the key rules.
-#}
with

customers as (

    select * from {{ ref('customers') }}

),

sales as (

    -- the customer ids seen in sales (one row each), not all of silver
    select customer_id from {{ ref('int_customer_sales') }}

),

known as (

    select
        customer_id as customer_key,
        customer_id,
        {{ mask_email('email') }} as masked_email,
        segment,
        signup_date,
        false as is_anonymous,
        false as is_unknown
    from customers

),

inferred as (

    -- customer_ids seen in sales that the seed does not have: one member each
    select distinct
        sales.customer_id as customer_key,
        sales.customer_id,
        cast(null as string) as masked_email,
        'unknown' as segment,
        cast(null as date) as signup_date,
        false as is_anonymous,
        true as is_unknown
    from sales
    left anti join customers
        on sales.customer_id = customers.customer_id
    where sales.customer_id is not null
        and sales.customer_id != {{ unknown_member_key() }}

),

anonymous_member as (

    select
        {{ unknown_member_key() }} as customer_key,
        cast(null as string) as customer_id,
        cast(null as string) as masked_email,
        'anonymous' as segment,
        cast(null as date) as signup_date,
        true as is_anonymous,
        true as is_unknown

),

members as (

    select * from known
    union all
    select * from inferred
    union all
    select * from anonymous_member

),

final as (

    select
        -- keys
        cast(customer_key as string) as customer_key,
        cast(customer_id as string) as customer_id,

        -- attributes
        cast(masked_email as string) as masked_email,
        cast(segment as string) as segment,
        cast(signup_date as date) as signup_date,

        -- flags
        is_anonymous,
        is_unknown

    from members

)

select * from final

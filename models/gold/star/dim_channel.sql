{#-
  One row per sales channel: every channel of the seed, one inferred member per channel_id
  seen in sales but missing from the seed (attributes `unknown`, is_unknown), and the '-1'
  member. See macros/star.sql for the key rules.
-#}
with

channels as (

    select * from {{ ref('channels') }}

),

sales as (

    -- the channel ids seen in sales (one row per day and region), not all of silver
    select channel_id from {{ ref('int_sales_by_day') }}

),

known as (

    select
        channel_id as channel_key,
        channel_id,
        channel_name,
        channel_type,
        false as is_unknown
    from channels

),

inferred as (

    -- channel_ids seen in sales that the seed does not have: one member each
    select distinct
        sales.channel_id as channel_key,
        sales.channel_id,
        'unknown' as channel_name,
        'unknown' as channel_type,
        true as is_unknown
    from sales
    left anti join channels
        on sales.channel_id = channels.channel_id
    where sales.channel_id is not null
        and sales.channel_id != {{ unknown_member_key() }}

),

unknown_member as (

    select
        {{ unknown_member_key() }} as channel_key,
        cast(null as string) as channel_id,
        'unknown' as channel_name,
        'unknown' as channel_type,
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
        cast(channel_key as string) as channel_key,
        cast(channel_id as string) as channel_id,

        -- attributes
        cast(channel_name as string) as channel_name,
        cast(channel_type as string) as channel_type,

        -- flags
        is_unknown

    from members

)

select * from final

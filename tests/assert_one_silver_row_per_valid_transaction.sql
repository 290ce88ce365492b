-- sales_simple holds exactly the distinct valid transaction ids of bronze, and quarantine
-- exactly the rejected bronze rows (compared as sets, both ways), up to silver_cutoff().
-- In a build (data_tests_scope) only the newest silver load is compared: its rows against the
-- bronze rows after the older loads (`since`), less the transaction ids an older load holds.
{%- set load = silver_newest_load(ref('sales_simple'), ref('sales_quarantine')) %}
with

staged as (

    select * from {{ ref('stg_bronze__sales_events') }}
    where ingestion_time <= {{ silver_cutoff() }} {{ load.after_older_loads }}

),

valid_ids as (

    select distinct transaction_id from staged
    where is_valid

),

expected_ids as (

    select transaction_id from valid_ids
    {%- if load.limited %}
    except
    -- held by an older load
    select transaction_id
    from {{ ref('sales_simple') }}
    where loaded_at < {{ load.loaded_at }}
        and transaction_id in (select valid_ids.transaction_id from valid_ids)
    {%- endif %}

),

simple_ids as (

    select transaction_id from {{ ref('sales_simple') }}
    where ingestion_time <= {{ silver_cutoff() }} {{ load.in_newest_load }}

),

rejected as (

    select
        record_id,
        rejection_reason
    from staged
    where not is_valid

),

quarantined as (

    select
        record_id,
        rejection_reason
    from {{ ref('sales_quarantine') }}
    where ingestion_time <= {{ silver_cutoff() }} {{ load.in_newest_load }}

),

differences as (

    select
        'missing from sales_simple' as problem,
        transaction_id as id
    from (
        select transaction_id from expected_ids
        except
        select transaction_id from simple_ids
    ) as missing_simple
    union all
    select
        'unexpected in sales_simple' as problem,
        transaction_id as id
    from (
        select transaction_id from simple_ids
        except
        select transaction_id from expected_ids
    ) as extra_simple
    union all
    select
        'missing from sales_quarantine' as problem,
        record_id as id
    from (
        select * from rejected
        except
        select * from quarantined
    ) as missing_quarantine
    union all
    select
        'unexpected in sales_quarantine' as problem,
        record_id as id
    from (
        select * from quarantined
        except
        select * from rejected
    ) as extra_quarantine

)

select * from differences

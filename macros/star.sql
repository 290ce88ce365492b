{#-
  Star schema keys (models/gold/star/). Dimensions are keyed by the natural id as a string:
    - an id found in its seed is a normal member;
    - an id seen in sales but missing from its seed gets its own "inferred" member (same key,
      attributes `unknown`, is_unknown = true), so the fact keeps the id and joins without loss;
      the member becomes a normal one as soon as the seed has the id (dimensions are rebuilt on
      every run, the fact never needs a refresh for its keys);
    - the key '-1' is the one special member of every dimension: "no id" (an anonymous sale for
      customers; a null id elsewhere, which silver does not let through today).
-#}

{#- The key of the special "no id / unknown" member of every dimension. -#}
{% macro unknown_member_key() -%}
    '-1'
{%- endmacro %}

{#- A dimension key from a natural id: the id itself, or the unknown member when it is null. -#}
{% macro star_key(id_column) -%}
    coalesce({{ id_column }}, {{ unknown_member_key() }})
{%- endmacro %}

{#- dim_date key: the date as an int yyyymmdd (20261110); -1 when the date is null. -#}
{% macro date_key(date_column) -%}
    coalesce(cast(date_format({{ date_column }}, 'yyyyMMdd') as int), -1)
{%- endmacro %}

{#-
  An e-mail with the personal part hidden and the domain kept (lower case):
  'Ada.Lovelace@Example.COM' -> '***@example.com'. No usable domain ('ada', 'ada@') -> '***';
  null stays null. The part after the last '@' is the domain.
-#}
{% macro mask_email(email_column) -%}
    case
        when {{ email_column }} is null then null
        when instr({{ email_column }}, '@') = 0
            or trim(substring_index({{ email_column }}, '@', -1)) = ''
            then '***'
        else concat('***@', lower(trim(substring_index({{ email_column }}, '@', -1))))
    end
{%- endmacro %}

#!/usr/bin/env bash
# test_goaml_rules.sh - drafts of EVERY rule (contract section 5) validate against both test
# FIU schemas: vigild replays a generated stream with one instance of every typology, a
# watchlist and two sanctioned names, with alerts.evidence: full (real alerts, not fixtures);
# each of the 13 rules alerts at least once; vigil-goaml drafts them with FIU A's and FIU B's
# configuration (own clients from a CSV in the *_my_client form, sanctions mapped to an
# activity code): nothing rejected, nothing "not reportable", every rule in some draft, and
# every draft accepted by xmllint against its schema too.
source "$(dirname "$0")/kafka_lib.sh"

GOAML="$VG_BIN/vigil-goaml"
T="$KT_TMP"
"$VG_BIN/vigil-gen" --format ndjson --out "$T/in.ndjson" --transactions 30000 --accounts 2000 --seed 5 \
    --patterns 1 --watchlist "$T/watchlist.txt" --quiet
cp "$VG_TEST_DATA/sanctions/un_small.xml" "$T/un.xml"
last=$(tail -n 1 "$T/in.ndjson" | sed -E 's/.*"ts":([0-9]+).*/\1/')
# two parties on the UN fixture list, paying and paid by accounts of the stream
printf '{"id":"s1","ts":%d,"from":"SNC-1","to":"287:9DF340BD0","amount":"250","currency":"USD","channel":"wire","from_name":"Muhammad Taher Anwari","from_bank":"Bank & Co"}\n' \
    $((last + 60000)) >>"$T/in.ndjson"
printf '{"id":"s2","ts":%d,"from":"858:2BF184275","to":"SNC-2","amount":"300","currency":"EUR","to_name":"Щербаков Александр","to_birth_date":"1970-05-14"}\n' \
    $((last + 120000)) >>"$T/in.ndjson"

cat >"$T/vigild.yaml" <<YAML
alerts:
  evidence: full
rules:
  watchlist: {file: $T/watchlist.txt}
  sanctions:
    lists:
      - {name: un, file: $T/un.xml, format: un-xml}
YAML
timeout 120 "$VG_BIN/vigild" -c "$T/vigild.yaml" --input "$T/in.ndjson" --output "$T/alerts.ndjson" \
    2>"$T/vigild.log" || kt_fail "vigild replay failed"
rules="large_tx structuring fan_in fan_out pass_through cycle scatter_gather gather_scatter velocity dormant watchlist high_risk_country sanctions"
for r in $rules; do
    grep -q "\"rule\":\"$r\"" "$T/alerts.ndjson" || kt_fail "no $r alert: the test stream does not cover every rule"
done
grep -q '"evidence":\[{"id":"[^"]*","ts"' "$T/alerts.ndjson" || kt_fail "alerts carry no evidence objects"

# Own clients: the accounts of the first alerts, and a sanctioned party's counterparty.
{
    echo "account,client_number,currency,personal_account_type,holder,status_code,opened,branch,first_name,last_name,birthdate,id_number,nationality,residence,role,name,legal_form,incorporation_number,business,incorporation_country"
    echo "287:9DF340BD0,C-0,USD,A,person,A,2018-05-02,HQ,Aigul,Nurlanovna,1985-07-14,850714400123,KZ,KZ,A,,,,,"
    n=1
    for a in $(sed -E 's/.*"account":"([^"]*)".*/\1/' "$T/alerts.ndjson" | sort -u | grep -v '^287:9DF340BD0$' | head -n 6); do
        if [ $((n % 2)) = 0 ]; then
            echo "$a,C-$n,USD,B,entity,A,2020-01-15,HQ,,,,,,,,\"Client $n & Sons LLP\",B,19034001234$n,Trading,KZ"
        else
            echo "$a,C-$n,KZT,A,person,A,2019-03-01,HQ,Client,Number $n,1980-01-0$n,80010140012$n,KZ,KZ,A,,,,,"
        fi
        n=$((n + 1))
    done
} >"$T/clients.csv"

# fiu_config FILE SCHEMA OUT : FIU A's or FIU B's codes for every rule.
fiu_config() {
    if [ "$2" = fiu_a ]; then
        cat >"$1" <<YAML
report:
  schema: $VG_TEST_DATA/goaml/fiu_a.xsd
  output_dir: $3
  rentity_id: "1234"
  currency_local: USD
  reporting_person: {first_name: Aigerim, last_name: Seitkali}
  location: {address_type: B, address: "1 Abay Ave", city: Almaty, country_code: KZ}
  action: "Under review."
  report_codes: {default: STR, large_tx: CTR, sanctions: SAR}
  activity_codes: [SAR]
  indicators: {default: [MULE], structuring: [STRUCT], fan_in: [FANIN], fan_out: [FANOUT], large_tx: [LARGE],
               cycle: [CYCLE], velocity: [VELOC], dormant: [DORM], watchlist: [LIST], high_risk_country: [GEO],
               sanctions: [SANCT]}
  transmode_codes: {default: Z, cash: A, wire: B, card: C}
  funds_codes: {default: K, cash: A}
  institution: {name: "Our Bank JSC", swift: OURBKZKA}
  clients: $T/clients.csv
  banks: {default: {name: Unknown institution, code: UNKNOWN}}
YAML
    else
        cat >"$1" <<YAML
report:
  schema: $VG_TEST_DATA/goaml/fiu_b.xsd
  output_dir: $3
  rentity_id: "BANK-77"
  rentity_branch: "Head office"
  reporting_user_code: "MLRO01"
  default_country: KZ
  report_codes: {default: "1001", large_tx: "1002", sanctions: "2001"}
  activity_codes: ["2001"]
  indicators: {default: [I100], structuring: [I110], fan_in: [I210], sanctions: [I900]}
  transmode_codes: {default: OTHR, wire: WIRE, cash: CASH}
  funds_codes: {default: F1, cash: F2}
  institution: {name: "Our Bank JSC", code: "0042"}
  clients: $T/clients.csv
  banks: {default: {name: Unknown, code: "000"}}
YAML
    fi
}

# --check-config loads the schema and the clients file: ok, then a bad CSV line by file:line
fiu_config "$T/check.yaml" fiu_a "$T/out_check"
"$GOAML" -c "$T/check.yaml" --check-config >"$T/check.out" 2>"$T/check.log" || kt_fail "--check-config refused a good config"
printf 'account,client_number,currency,personal_account_type,holder\nA1,C1,KZT,A,robot\n' >"$T/bad_clients.csv"
sed -i "s|clients: .*|clients: $T/bad_clients.csv|" "$T/check.yaml"
if "$GOAML" -c "$T/check.yaml" --check-config 2>"$T/check.log"; then kt_fail "--check-config passed a bad clients file"; fi
grep -q "report.clients: $T/bad_clients.csv:2: holder: 'robot'" "$T/check.log" || kt_fail "no FILE:LINE error: $(cat "$T/check.log")"
[ ! -e "$T/out_check" ] || kt_fail "--check-config wrote output"

summary() { sed -nE "s/^vigil-goaml:.*[ :]$2=([0-9]+).*/\1/p" "$1"; }
alerts=$(wc -l <"$T/alerts.ndjson")
for fiu in fiu_a fiu_b; do
    fiu_config "$T/$fiu.yaml" $fiu "$T/out_$fiu"
    timeout 60 "$GOAML" -c "$T/$fiu.yaml" --input "$T/alerts.ndjson" 2>"$T/goaml_$fiu.log" ||
        kt_fail "vigil-goaml ($fiu) failed"
    [ "$(summary "$T/goaml_$fiu.log" alerts)" = "$alerts" ] || kt_fail "$fiu: not every alert read"
    [ "$(summary "$T/goaml_$fiu.log" bad_alerts)" = 0 ] || kt_fail "$fiu: bad alerts"
    [ "$(summary "$T/goaml_$fiu.log" not_reportable)" = 0 ] || kt_fail "$fiu: cases not reportable"
    if [ "$(summary "$T/goaml_$fiu.log" rejected)" != 0 ]; then
        kt_fail "$fiu rejected drafts: $(head -n 3 "$T"/out_$fiu/rejected/*.errors.txt)"
    fi
    [ ! -d "$T/out_$fiu/rejected" ] || kt_fail "$fiu: rejected/ exists"
    drafted=$(summary "$T/goaml_$fiu.log" drafted)
    [ "$(ls "$T/out_$fiu" | grep -cE '^case-[0-9a-f]{32}\.xml$')" = "$drafted" ] || kt_fail "$fiu: files != drafted"
    for r in $rules; do
        grep -lq "Rule $r (" "$T"/out_$fiu/*.xml || kt_fail "$fiu: no draft tells of a $r alert"
    done
    grep -lq '<t_from_my_client>\|<t_to_my_client>' "$T"/out_$fiu/*.xml || kt_fail "$fiu: no own client in any draft"
    grep -lq '<t_from>' "$T"/out_$fiu/*.xml || kt_fail "$fiu: no non-client in any draft"
    grep -lq '<activity>' "$T"/out_$fiu/*.xml || kt_fail "$fiu: the sanctions case is not an activity report"
    if command -v xmllint >/dev/null; then
        for f in "$T"/out_$fiu/*.xml; do
            xmllint --noout --schema "$VG_TEST_DATA/goaml/$fiu.xsd" "$f" 2>>"$T/xmllint.log" ||
                kt_fail "xmllint refuses $f: $(tail -n 3 "$T/xmllint.log")"
        done
    fi
    echo "ok: $fiu: $alerts alerts of all 13 rules -> $drafted drafts, none rejected"
done

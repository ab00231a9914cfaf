#!/usr/bin/env bash
# Evaluates `trailhound hunt` on the public real logs and the benign fixture
# set, and prints the Markdown figures of docs/detections.md.
#
# Usage: scripts/eval-hunt.sh [TRAILHOUND_BINARY]
#   The binary defaults to the debug build in $CARGO_TARGET_DIR (or target/).
#   Needs jq. Reads ../shared/realdata relative to the repository root.
set -euo pipefail

cd "$(dirname "$0")/.."
bin="${1:-${CARGO_TARGET_DIR:-target}/debug/trailhound}"
realdata="../shared/realdata"
work="$(mktemp -d /var/tmp/trailhound-eval.XXXXXX)"
trap 'rm -rf "$work"' EXIT

hunt() { "$bin" --quiet --store "$1" hunt --min-severity info --format jsonl || true; }

# Expected rules per Stratus technique, as in tests/cli/hunt.rs.
declare -A expected=(
  [aws.persistence.iam-backdoor-role]="P05"
  [aws.persistence.iam-backdoor-user]="P02"
  [aws.persistence.iam-create-admin-user]="C01"
  [aws.persistence.iam-create-backdoor-role]="C02"
  [aws.persistence.iam-create-user-login-profile]="P03"
  [aws.persistence.lambda-backdoor-function]="P09"
  [aws.persistence.lambda-layer-extension]="P12"
  [aws.persistence.lambda-overwrite-code]="P11"
  [aws.persistence.rolesanywhere-create-trust-anchor]="P07"
  [aws.persistence.sts-federation-token]="P06"
  [aws.privilege-escalation.iam-update-user-login-profile]="CP01"
  [aws.credential-access.ec2-get-password-data]="EX04-PASSWORD"
  [aws.credential-access.ec2-steal-instance-credentials]="CP06 CP07"
  [aws.credential-access.secretsmanager-batch-retrieve-secrets]="EX04-BATCH"
  [aws.credential-access.secretsmanager-retrieve-secrets]="EX04"
  [aws.credential-access.ssm-retrieve-securestring-parameters]="EX04-SSM"
  [aws.defense-evasion.cloudtrail-delete]="DE01"
  [aws.defense-evasion.cloudtrail-event-selectors]="DE02"
  [aws.defense-evasion.cloudtrail-stop]="DE01"
  [aws.defense-evasion.dns-delete-logs]="DE08"
  [aws.defense-evasion.organizations-leave]="DE10"
  [aws.defense-evasion.vpc-remove-flow-logs]="DE08"
)

echo "### Stratus Red Team detonations (one store per file)"
echo
echo "| technique file | expected | found rules (severity) | detected |"
echo "|---|---|---|---|"
declare -A tactic_total tactic_hit
attack_high=0
for file in "$realdata"/stratus-detonations/aws.*.json; do
  name="$(basename "$file" .json)"
  tactic="$(echo "$name" | cut -d. -f2)"
  case "$tactic" in
    persistence|privilege-escalation|credential-access|defense-evasion) ;;
    *) continue ;;
  esac
  store="$work/$name"
  "$bin" --quiet --store "$store" ingest "$file"
  hunt "$store" > "$work/$name.jsonl"
  found="$(jq -r '"\(.rule_id) (\(.severity))"' "$work/$name.jsonl" | sort -u | paste -sd, - | sed 's/,/, /g')"
  attack_high=$((attack_high + $(jq -r 'select(.severity=="high" or .severity=="critical") | .rule_id' "$work/$name.jsonl" | wc -l)))
  hit=no
  for rule in ${expected[$name]}; do
    if jq -s -e --arg rule "$rule" 'any(.[]; .rule_id == $rule)' "$work/$name.jsonl" > /dev/null; then hit=yes; fi
  done
  tactic_total[$tactic]=$(( ${tactic_total[$tactic]:-0} + 1 ))
  [[ $hit == yes ]] && tactic_hit[$tactic]=$(( ${tactic_hit[$tactic]:-0} + 1 ))
  echo "| \`$name\` | ${expected[$name]} | ${found:-none} | $hit |"
done
echo
echo "| tactic | files | detected | recall |"
echo "|---|---|---|---|"
for tactic in persistence privilege-escalation credential-access defense-evasion; do
  total=${tactic_total[$tactic]:-0}
  hit=${tactic_hit[$tactic]:-0}
  echo "| $tactic | $total | $hit | $(echo "scale=2; $hit / $total" | bc) |"
done

echo
echo "### invictus-aws"
echo
store="$work/invictus"
"$bin" --quiet --store "$store" ingest "$realdata/invictus-aws"
hunt "$store" > "$work/invictus.jsonl"
key=AKIATFQR7NSC8Q4X20BJ
check() {
  local label="$1" filter="$2"
  local row
  row="$(jq -c "select($filter)" "$work/invictus.jsonl" | head -n 1)"
  if [[ -n "$row" ]]; then
    echo "| $label | $(echo "$row" | jq -r '.rule_id') | $(echo "$row" | jq -r '.severity') | $(echo "$row" | jq -r '.lineage_root_access_key_id') |"
  else
    echo "| $label | not found | | |"
  fi
}
echo "| ground truth | rule | severity | lineage root |"
echo "|---|---|---|---|"
check "new admin user malicious-iam-user" '.rule_id=="C01" and .target=="malicious-iam-user"'
check "backdoor role trust change (external account)" '.rule_id=="P05"'
check "backdoor role chain" '.rule_id=="C02"'
check "login-profile takeover" '.rule_id=="C04"'
check "StopLogging / DeleteTrail (failed, TrailNotFoundException)" '.rule_id=="DE01" and (.summary|contains("TrailNotFoundException"))'
check "DeleteTrail (succeeded)" '.rule_id=="DE01" and (.summary|contains("failed")|not)'
check "event selectors changed" '.rule_id=="DE02"'
check "LeaveOrganization (denied)" '.rule_id=="DE10"'
echo
echo "Findings by severity and lineage root:"
echo
echo '```'
jq -r '"\(.lineage_root_access_key_id // "none") \(.severity)"' "$work/invictus.jsonl" | sort | uniq -c
echo '```'
invictus_high_other=$(jq -r "select((.severity==\"high\" or .severity==\"critical\") and .lineage_root_access_key_id != \"$key\") | .rule_id" "$work/invictus.jsonl" | wc -l)
invictus_high_attacker=$(jq -r "select((.severity==\"high\" or .severity==\"critical\") and .lineage_root_access_key_id == \"$key\") | .rule_id" "$work/invictus.jsonl" | wc -l)

echo
echo "### Benign fixtures (tests/fixtures/benign)"
echo
store="$work/benign"
"$bin" --quiet --store "$store" ingest tests/fixtures/benign
hunt "$store" > "$work/benign.jsonl"
echo "| rule | severity | target |"
echo "|---|---|---|"
jq -r '"| \(.rule_id) | \(.severity) | \(.target // "") |"' "$work/benign.jsonl"
benign_high=$(jq -r 'select(.severity=="high" or .severity=="critical") | .rule_id' "$work/benign.jsonl" | wc -l)
benign_all=$(wc -l < "$work/benign.jsonl")
echo
echo "Benign findings: $benign_all in all, $benign_high at high or critical."
echo
echo "### Precision at high and critical"
echo
echo "Every Stratus record is part of an attack, so each high or critical"
echo "finding there counts as a true positive; every benign one as a false"
echo "positive. In invictus-aws, high or critical findings outside the"
echo "attacker's lineage are counted apart, because that data set mixes the"
echo "attack with Stratus warm-up and another user's work."
echo
tp=$attack_high
fp=$benign_high
echo "| set | true positives | false positives | precision |"
echo "|---|---|---|---|"
echo "| Stratus + benign | $tp | $fp | $(echo "scale=3; $tp / ($tp + $fp)" | bc) |"
echo "| invictus-aws, attacker lineage vs other | $invictus_high_attacker | $invictus_high_other (not attributed to $key) | $(echo "scale=3; $invictus_high_attacker / ($invictus_high_attacker + $invictus_high_other)" | bc) |"

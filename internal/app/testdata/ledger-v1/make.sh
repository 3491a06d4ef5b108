#!/bin/sh
# make.sh records how the ledger in this directory was made, with roadmap
# built from the commit that added it. The tests never run it: they load what
# it left (datadir/) and compare the ledger's answers with the ones it recorded
# (golden/). This fixture stays as it was written, never remade: its point is
# that later releases still read it. To keep a ledger of a later release too,
# make a new fixture beside it (ledger-v2), into an empty directory:
#
#   go build -o roadmap ./cmd/roadmap
#   ROADMAP=./roadmap OUT=internal/app/testdata/ledger-v2 sh internal/app/testdata/ledger-v1/make.sh
#
# It needs curl, jq, GNU sed and GNU date. The server listens on 127.0.0.1 on
# a free port, with serve's defaults (approvals major) and a fixed bootstrap
# token, and is stopped with SIGTERM, so the JetStream files in datadir/ are
# closed cleanly. GETs are sent as curl sends them, with Accept: */* unless
# another is named.
#
# What it leaves in OUT:
#   datadir/            the data directory as the server left it: signing.key
#                       and jetstream/ (the stream ROADMAP in JetStream's file
#                       format, message headers included); named datadir,
#                       not data, which the repository ignores
#   golden/             the answers, byte for byte, of the GETs listed in
#                       golden/answers.tsv
#   golden/answers.tsv  one GET a line: file, path, Accept, Content-Type, ETag
#   idempotent/         writes sent with an Idempotency-Key by the bootstrap
#                       admin: requests.tsv (name, method, path, key, status,
#                       Content-Type, ETag, Location), NAME.body (the bytes
#                       sent) and NAME.answer (the bytes answered)
#   events.count        the number of events in the log
set -eu

ROADMAP=${ROADMAP:-roadmap}
OUT=${OUT:-$(dirname "$0")}
# The bootstrap admin's secret; the compatibility test uses the same one.
ADMIN=${ADMIN:-compat-ledger-v1-bootstrap-admin-secret-0123456789}

if [ -e "$OUT/datadir" ]; then
	echo "make.sh: $OUT/datadir already exists; make the fixture into an empty directory" >&2
	exit 1
fi
mkdir -p "$OUT/datadir" "$OUT/golden" "$OUT/idempotent"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

"$ROADMAP" serve --data "$OUT/datadir" --addr 127.0.0.1:0 --bootstrap-token "$ADMIN" >"$WORK/stdout" 2>"$WORK/stderr" &
PID=$!
stop() {
	kill -TERM "$PID"
	wait "$PID" || true
}
L=
for _ in $(seq 1 100); do
	L=$(sed -n 's/^roadmap: listening on \(http:[^ ]*\) .*/\1/p' "$WORK/stdout")
	if [ -n "$L" ] && curl -sf "$L/readyz" >/dev/null; then
		break
	fi
	L=
	sleep 0.1
done
if [ -z "$L" ]; then
	echo "make.sh: the server did not get ready" >&2
	cat "$WORK/stderr" >&2
	kill -TERM "$PID"
	exit 1
fi

# send METHOD PATH TOKEN STATUS [CURL-ARGS...] < BODY sends a write with the
# body read from stdin, byte for byte, and stops unless it answers STATUS.
# The answer is left in $WORK/answer and its headers in $WORK/headers.
send() {
	method=$1 path=$2 tok=$3 want=$4
	shift 4
	code=$(curl -sS -o "$WORK/answer" -D "$WORK/headers" -w '%{http_code}' -X "$method" "$L$path" \
		-H "Authorization: Bearer $tok" -H 'Content-Type: application/json' --data-binary @- "$@")
	if [ "$code" != "$want" ]; then
		echo "make.sh: $method $path: $code, want $want" >&2
		cat "$WORK/answer" >&2
		stop
		exit 1
	fi
}
# call METHOD PATH TOKEN STATUS BODY is send with a one-line body given as
# an argument.
call() {
	send "$1" "$2" "$3" "$4" <<EOF
$5
EOF
}
# field NAME prints a field of the last answer.
field() { jq -r ".$1" "$WORK/answer"; }
header() { tr -d '\r' <"$WORK/headers" | sed -n "s/^$1: //Ip" | head -n 1; }
# pause lets more than a second pass, so a time to the second can sit
# between two events.
pause() { sleep 1.2; }
# moment NAME notes, between two pauses, the time to the second (T_NAME)
# and the last sequence (SEQ_NAME): a point with no event at its second.
moment() {
	pause
	printf -v "T_$1" '%s' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	printf -v "SEQ_$1" '%s' "$(last_seq)"
	pause
}
# review VAR TOKEN BODY opens a review as TOKEN and keeps its id in VAR.
review() {
	call POST /v1/reviews "$2" 201 "$3"
	printf -v "$1" '%s' "$(field id)"
}
last_seq() { curl -sS -H "Authorization: Bearer $ADMIN" "$L/v1/roadmap?product=default" | jq -r .sequence; }

# People. token VAR NAME ROLE [ISSUER] makes a token (as ISSUER, the
# bootstrap admin by default) and keeps its secret in VAR, unless VAR is -.
token() {
	call POST /v1/tokens "${4:-$ADMIN}" 201 "{\"name\":\"$2\",\"role\":\"$3\"}"
	if [ "$1" != - ]; then printf -v "$1" '%s' "$(field secret)"; fi
}
token PM pm@example.com editor
token PM2 'Zoë Ångström (产品)' editor
token CPO cpo@example.com approver
token - auditor@example.com auditor
token VIEWER @dashboard-bot viewer
# A token that expired a second after it was made: expired for good.
call POST /v1/tokens "$ADMIN" 201 '{"name":"contractor@example.com","role":"editor","expires_in":1}'
token INTERN intern@example.com editor
INTERN_ID=$(field id)
# A second admin, who makes a token of their own.
token OPS ops-admin@example.com admin
token - 'Büro-Anzeige (Wand)' viewer "$OPS"

# Objectives, one of them on a second product.
call POST /v1/objectives "$PM" 201 '{"title":"Reduce onboarding time","description":"New workspaces take too long to first value.","kpi":"median minutes to first roadmap","target":"-30% by Q2"}'
O_ONBOARD=$(field id)
call POST /v1/objectives "$PM2" 201 '{"title":"Réduire le churn — 東京 launch 🚀","kpi":"logo churn, % per quarter","target":"≤ 2 % by Q3","description":"Ünïcödé on purpose: é, ß, 東京, 🚀, and a combining mark: é."}'
O_CHURN=$(field id)
send POST /v1/objectives "$PM" 201 <<'EOF'
{"title":"Grow \"enterprise\" revenue <b>fast</b> & safely","kpi":"ARR from plans >= \"Business\"","target":"+€1.5M | by FY27","description":"Text that needs escaping: <script>alert('x')</script>, a pipe |, a backslash \\, *stars*, `code`, [link](javascript:alert(1)) and a tab:\there."}
EOF
O_ENTERPRISE=$(field id)
call POST /v1/objectives "$PM" 201 '{"title":"Mobile parity","kpi":"share of web features on mobile","target":"80% by Q4","product":"mobile"}'
O_MOBILE=$(field id)
call POST /v1/objectives "$PM" 201 '{"title":"Sunset the legacy importer","kpi":"imports through the legacy path","target":"0 by Q1"}'
O_LEGACY=$(field id)

# Capacity of the default product; the admin sets it, then changes it.
call PUT /v1/products/default/capacity "$ADMIN" 200 '{"now":8,"next":20}'
call PUT /v1/products/default/capacity "$ADMIN" 200 '{"now":10,"next":20,"later":40}'

# Items: initiatives, ideas under them, dependencies, risks, two products.
send POST /v1/items "$PM" 201 <<EOF
{"title":"Onboarding overhaul","kind":"initiative","description":"The problem: setup is long and confusing.","objective_ids":["$O_ONBOARD"],"effort":3}
EOF
I_INIT=$(field id)
send POST /v1/items "$PM" 201 <<EOF
{"title":"Guided setup","kind":"idea","parent_id":"$I_INIT","objective_ids":["$O_ONBOARD","$O_CHURN"],"effort":5,"risks":["Identity team capacity"]}
EOF
I_GUIDED=$(field id)
send POST /v1/items "$PM2" 201 <<EOF
{"title":"Modèles prêts à l'emploi — テンプレート","kind":"idea","parent_id":"$I_INIT","objective_ids":["$O_CHURN"],"effort":3,"depends_on":["$I_GUIDED"],"risks":["Traductions à relire","依存: guided setup"]}
EOF
I_TEMPLATES=$(field id)
send POST /v1/items "$PM" 201 <<EOF
{"title":"SSO for \"Business\" plans <script>alert(1)</script>","kind":"idea","objective_ids":["$O_ENTERPRISE"],"effort":8,"description":"| a | table | breaker |\n# not a heading\n=HYPERLINK(\"http://example.com\")"}
EOF
I_SSO=$(field id)
send POST /v1/items "$PM" 201 <<EOF
{"title":"Audit log export","kind":"idea","objective_ids":["$O_ENTERPRISE"],"effort":2}
EOF
I_EXPORT=$(field id)
send POST /v1/items "$PM" 201 <<EOF
{"title":"Legacy importer shim","kind":"idea","objective_ids":["$O_LEGACY"],"effort":1}
EOF
I_SHIM=$(field id)
call POST /v1/items "$PM" 201 '{"title":"Dark mode","kind":"idea","description":"Asked for by many; serves no objective yet."}'
I_DARK=$(field id)
send POST /v1/items "$PM" 201 <<EOF
{"title":"Mobile offline mode","kind":"initiative","product":"mobile","objective_ids":["$O_MOBILE"]}
EOF
I_MOBILE_INIT=$(field id)
send POST /v1/items "$PM" 201 <<EOF
{"title":"Offline drafts","kind":"idea","product":"mobile","parent_id":"$I_MOBILE_INIT","objective_ids":["$O_MOBILE"],"effort":5}
EOF
I_OFFLINE=$(field id)

# Decisions. Into next and later need no approval.
call POST "/v1/items/$I_GUIDED/prioritise" "$PM" 200 '{"horizon":"next","rationale":"Cheapest fix for the top churn reason","score":{"framework":"rice","reach":1200,"impact":2,"confidence":0.8,"effort":3},"evidence":["https://example.com/research/onboarding","interviews 2026-10 (n=14)"]}'
send POST "/v1/items/$I_TEMPLATES/prioritise" "$PM2" 200 <<'EOF'
{"horizon":"later","rationale":"Après le guidage : « d'abord le parcours »","score":{"framework":"moscow","category":"should"}}
EOF
send POST "/v1/items/$I_EXPORT/prioritise" "$PM" 200 <<'EOF'
{"horizon":"next","rank":1,"rationale":"=SUM(A1:A9) is what the auditors' sheet does with it","score":{"framework":"wsjf","business_value":8,"time_criticality":13,"risk_reduction":5,"job_size":3},"evidence":["=cmd|' /C calc'!A0","+1 555 0100","-minus","@at"]}
EOF
call POST "/v1/items/$I_SHIM/prioritise" "$PM" 200 '{"horizon":"later","rationale":"Keeps old imports working while they move","score":{"framework":"value_effort","customer_value":2,"business_value":3,"effort":1,"risk":2}}'
call POST "/v1/items/$I_DARK/prioritise" "$PM" 200 '{"horizon":"later","rank":1,"rationale":"Popular in the forum","evidence":["https://forum.example.com/t/dark-mode?votes=312&sort=top"]}'
call POST "/v1/items/$I_OFFLINE/prioritise" "$PM" 200 '{"horizon":"next","rationale":"Field teams lose work on trains"}'

# Into now is a major change: proposed (202), then approved.
call POST "/v1/items/$I_SSO/prioritise" "$PM" 202 '{"horizon":"now","rationale":"Three enterprise deals wait on it.\nSee the \"pipeline\" review, line 2.\n\tIndented third line.","score":{"framework":"value_effort","customer_value":4,"business_value":5,"effort":3,"risk":4},"evidence":["https://example.com/crm/deals?stage=negotiation&owner=\"sales\""]}'
C_SSO=$(field id)
call POST "/v1/changes/$C_SSO/approve" "$CPO" 200 '{"rationale":"The deals are signed","evidence":["board minutes 2026-11"]}'
# And another, rejected.
call POST "/v1/items/$I_INIT/prioritise" "$PM" 202 '{"horizon":"now","rationale":"Do the whole initiative at once"}'
C_INIT=$(field id)
call POST "/v1/changes/$C_INIT/reject" "$CPO" 200 '{"rationale":"Too big for now; let the ideas under it earn their place","evidence":[]}'

# Reprioritisations: within a horizon, across horizons, rescoring.
call POST "/v1/items/$I_GUIDED/reprioritise" "$PM" 200 '{"horizon":"later","rationale":"Blocked on the identity team until January.\nRevisit after their Q1 plan."}'
send POST "/v1/items/$I_TEMPLATES/reprioritise" "$PM2" 200 <<'EOF'
{"rank":1,"rationale":"Les modèles d'abord ✅","score":{"framework":"moscow","category":"must"},"evidence":["https://example.com/études/modèles"]}
EOF
call POST "/v1/items/$I_OFFLINE/reprioritise" "$PM" 200 '{"horizon":"later","rationale":"Waiting for the sync engine"}'
# The intern's one decision, then the token is revoked.
call POST "/v1/items/$I_DARK/reprioritise" "$INTERN" 200 '{"horizon":"next","rationale":"Everyone wants it"}'
call DELETE "/v1/tokens/$INTERN_ID" "$ADMIN" 200 '{"reason":"Internship ended"}'
call POST "/v1/items/$I_DARK/remove" "$PM" 200 '{"rationale":"Serves no objective; parked","evidence":["roadmap hygiene 2026-11"]}'

# Backlog grooming: ideas into later at given ranks (one beyond the end,
# clamped), moved around; one decision made with If-Match.
B_IDS=
for n in 1 2 3 4 5 6 7; do
	send POST /v1/items "$PM" 201 <<EOF
{"title":"Backlog idea $n","kind":"idea","parent_id":"$I_INIT","objective_ids":["$O_ONBOARD"],"effort":$n}
EOF
	B_IDS="$B_IDS $(field id)"
done
set -- $B_IDS
B1=$1 B2=$2 B3=$3 B4=$4 B5=$5
rank=1
for b in "$@"; do
	send POST "/v1/items/$b/prioritise" "$PM" 200 <<EOF
{"horizon":"later","rank":$rank,"rationale":"Groomed into later at rank $rank"}
EOF
	rank=$((rank * 3))
done
send GET "/v1/items/$B3" "$PM" 200 </dev/null
ETAG=$(header ETag)
send POST "/v1/items/$B3/reprioritise" "$PM" 200 -H "If-Match: $ETAG" <<'EOF'
{"rank":1,"rationale":"Top of later: cheapest of the five","effort":2}
EOF
send POST "/v1/items/$B5/reprioritise" "$PM" 200 <<EOF
{"horizon":"next","rank":2,"rationale":"Serves churn too","objective_ids":["$O_ONBOARD","$O_CHURN"]}
EOF
call POST "/v1/items/$B1/remove" "$PM2" 200 '{"rationale":"Doublon de « Guided setup »"}'
send POST "/v1/items/$I_EXPORT/reprioritise" "$PM" 200 <<EOF
{"rationale":"Also serves churn: admins ask for it at renewal","objective_ids":["$O_ENTERPRISE","$O_CHURN"]}
EOF

# The objective of the shim is retired; the shim keeps its link.
call POST "/v1/objectives/$O_LEGACY/retire" "$PM" 200 '{"rationale":"Met the target in Q1: no import used the legacy path in 90 days"}'

moment BEFORE_REVIEW

# The first governance review: opened, looked at, closed (which signs a
# checkpoint).
review R_NOV "$PM" '{"period":"2026-11","title":"November board — \"Q4 focus\""}'
call POST "/v1/reviews/$R_NOV/close" "$CPO" 200 '{"notes":"Agreed: SSO now.\nAsk for evidence on <b>dark mode</b> & \"templates\" | next time."}'

# After the review: more decisions, some with an Idempotency-Key.
call POST "/v1/items/$I_EXPORT/prioritise" "$PM" 409 '{"horizon":"next","rationale":"Already on the roadmap: refused, nothing recorded"}'
send POST "/v1/items/$I_GUIDED/reprioritise" "$PM" 202 -H 'Idempotency-Key: pm-guided-into-now-1' <<'EOF'
{"horizon":"now","rank":1,"rationale":"The identity team finished early"}
EOF
C_GUIDED=$(field id)
send POST "/v1/changes/$C_GUIDED/approve" "$CPO" 200 -H 'Idempotency-Key: cpo-approve-guided' <<'EOF'
{"rationale":"Confirmed with the identity lead"}
EOF
send POST "/v1/items/$I_TEMPLATES/reprioritise" "$PM2" 200 -H 'Idempotency-Key: 7d3c1a52-5b0e-4f5e-9f0e-2d8a6c1b7e44' <<'EOF'
{"horizon":"next","rationale":"Le guidage avance : les modèles suivent","score":{"framework":"rice","reach":800,"impact":1,"confidence":0.5,"effort":2}}
EOF
call POST "/v1/items/$I_SSO/deliver" "$PM" 200 '{"rationale":"Shipped in 4.2 <release notes>","evidence":["https://example.com/releases/4.2#sso"]}'
send POST "/v1/items/$I_DARK/prioritise" "$PM" 200 <<EOF
{"horizon":"later","rationale":"Back, now that it serves churn","objective_ids":["$O_CHURN"]}
EOF
call POST "/v1/items/$I_SHIM/remove" "$PM" 200 '{"rationale":"The legacy importer is gone"}'
# The removal of a now item is major too: proposed, approved.
call POST "/v1/items/$I_GUIDED/remove" "$PM" 202 '{"rationale":"Replaced by the partner integration","evidence":["https://partner.example.com/announce"]}'
C_GUIDED_OUT=$(field id)
call POST "/v1/changes/$C_GUIDED_OUT/approve" "$ADMIN" 200 '{"rationale":"Agreed with the partner team"}'
call POST "/v1/items/$I_GUIDED/prioritise" "$PM" 200 '{"horizon":"later","rank":2,"rationale":"Keep it as a fallback if the partner slips"}'
send PUT /v1/products/mobile/capacity "$ADMIN" 200 -H 'Idempotency-Key: admin-mobile-capacity' <<'EOF'
{"now":5,"next":4,"later":null}
EOF

moment BETWEEN_REVIEWS

# The second review, closed later.
review R_DEC "$PM2" '{"period":"2026-12"}'
call POST "/v1/items/$I_OFFLINE/reprioritise" "$PM" 200 '{"horizon":"next","rank":1,"rationale":"The sync engine landed"}'
call POST "/v1/reviews/$R_DEC/close" "$CPO" 200 '{"notes":"Quiet month. 🎄"}'

# A checkpoint on demand, then a few more events after it.
call POST /v1/checkpoints "$CPO" 201 '{}'
# The bootstrap admin's writes with an Idempotency-Key, recorded so the test
# can retry them: a new item (201), a major change (202), a checkpoint (201).
record_idempotent() { # NAME METHOD PATH KEY STATUS < BODY
	name=$1 method=$2 path=$3 key=$4 want=$5
	cat >"$OUT/idempotent/$name.body"
	send "$method" "$path" "$ADMIN" "$want" -H "Idempotency-Key: $key" <"$OUT/idempotent/$name.body"
	cp "$WORK/answer" "$OUT/idempotent/$name.answer"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$method" "$path" "$key" "$want" \
		"$(header Content-Type)" "$(header ETag)" "$(header Location)" >>"$OUT/idempotent/requests.tsv"
}
record_idempotent propose-item POST /v1/items admin-propose-partner-integration 201 <<EOF
{"title":"Partner integration — \"Acme\" <connect>","kind":"idea","parent_id":"$I_INIT","objective_ids":["$O_ONBOARD"],"effort":2}
EOF
I_PARTNER=$(field id)
record_idempotent prioritise-into-now POST "/v1/items/$I_PARTNER/prioritise" admin-partner-into-now 202 <<'EOF'
{"horizon":"now","rationale":"The partner is ready; needs a second person","evidence":["https://partner.example.com/status"]}
EOF
record_idempotent sign-checkpoint POST /v1/checkpoints admin-checkpoint-after-partner 201 <<'EOF'
{}
EOF
# Each retried once here, as a client would: the same answer, nothing appended.
before=$(curl -sS -H "Authorization: Bearer $ADMIN" "$L/v1/events" | wc -l)
while IFS="$(printf '\t')" read -r name method path key want _; do
	send "$method" "$path" "$ADMIN" "$want" -H "Idempotency-Key: $key" <"$OUT/idempotent/$name.body"
	cmp "$WORK/answer" "$OUT/idempotent/$name.answer"
	[ "$(header Idempotent-Replayed)" = true ]
done <"$OUT/idempotent/requests.tsv"
after=$(curl -sS -H "Authorization: Bearer $ADMIN" "$L/v1/events" | wc -l)
[ "$before" = "$after" ]
# A refused request appends nothing: a viewer may not decide. The partner
# change stays pending.
call POST "/v1/items/$I_EXPORT/prioritise" "$VIEWER" 403 '{"horizon":"now","rationale":"A viewer may not decide"}'

# After the last checkpoint: more grooming, so the log goes on past it.
call POST "/v1/items/$B2/reprioritise" "$PM" 200 '{"rank":1,"rationale":"Customers asked twice this week","evidence":["support tickets #4411, #4420"]}'
call POST "/v1/items/$B4/reprioritise" "$PM2" 200 '{"horizon":"next","rationale":"Prêt à démarrer"}'
call POST "/v1/items/$B3/remove" "$PM" 200 '{"rationale":"Folded into templates"}'
call POST "/v1/items/$B4/deliver" "$PM" 200 '{"rationale":"Shipped as a quick win in 4.3","evidence":["https://example.com/releases/4.3"]}'
for n in 6 7 8 9 10 11; do
	send POST /v1/items "$PM2" 201 <<EOF
{"title":"Mobile idea $n — 📱","kind":"idea","product":"mobile","parent_id":"$I_MOBILE_INIT","objective_ids":["$O_MOBILE"],"effort":$n}
EOF
	m=$(field id)
	send POST "/v1/items/$m/prioritise" "$PM2" 200 <<EOF
{"horizon":"later","rank":1,"rationale":"Idée $n pour le mobile"}
EOF
done
call POST "/v1/items/$m/reprioritise" "$PM" 200 '{"horizon":"next","rank":1,"rationale":"The biggest of them goes first"}'
call POST "/v1/items/$B2/reprioritise" "$PM" 202 '{"horizon":"now","rationale":"Needs approval; rejected below"}'
C_B2=$(field id)
call POST "/v1/changes/$C_B2/reject" "$OPS" 200 '{"rationale":"Not before the partner integration lands"}'

# The golden answers: every GET below, byte for byte.
# golden NAME PATH [ACCEPT]
golden() {
	name=$1 path=$2 accept=${3:-}
	if [ -n "$accept" ]; then
		code=$(curl -sS -o "$OUT/golden/$name" -D "$WORK/headers" -w '%{http_code}' "$L$path" -H "Authorization: Bearer $ADMIN" -H "Accept: $accept")
	else
		code=$(curl -sS -o "$OUT/golden/$name" -D "$WORK/headers" -w '%{http_code}' "$L$path" -H "Authorization: Bearer $ADMIN")
	fi
	if [ "$code" != 200 ]; then
		echo "make.sh: GET $path: $code" >&2
		cat "$OUT/golden/$name" >&2
		stop
		exit 1
	fi
	printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$path" "$accept" "$(header Content-Type)" "$(header ETag)" >>"$OUT/golden/answers.tsv"
}
LAST=$(last_seq)
CP_ID=$(curl -sS -H "Authorization: Bearer $ADMIN" "$L/v1/checkpoints/latest" | jq -r .id)
CP_SIZES=$(curl -sS -H "Authorization: Bearer $ADMIN" "$L/v1/checkpoints" | jq -r '.checkpoints[].size' | sort -n | tr '\n' ' ')
set -- $CP_SIZES
CP_FIRST=$1
CP_LATEST=$(eval echo "\${$#}")
TODAY=$(date -u +%Y-%m-%d)
YESTERDAY=$(date -u -d yesterday +%Y-%m-%d)

golden roadmap.json "/v1/roadmap"
golden roadmap-default.json "/v1/roadmap?product=default"
golden roadmap-mobile.json "/v1/roadmap?product=mobile"
golden roadmap-objectives.json "/v1/roadmap?view=objectives"
golden roadmap-at-seq-1.json "/v1/roadmap?at_seq=1"
golden roadmap-at-seq-before-review.json "/v1/roadmap?at_seq=$SEQ_BEFORE_REVIEW"
golden roadmap-at-seq-between-reviews-objectives.json "/v1/roadmap?at_seq=$SEQ_BETWEEN_REVIEWS&view=objectives"
golden roadmap-at-seq-30.json "/v1/roadmap?at_seq=30"
golden roadmap-at-seq-last.json "/v1/roadmap?at_seq=$LAST"
golden roadmap-as-of-time-before-review.json "/v1/roadmap?as_of=$T_BEFORE_REVIEW"
golden roadmap-as-of-time-between-reviews.json "/v1/roadmap?as_of=$T_BETWEEN_REVIEWS&product=default"
golden roadmap-as-of-the-day-before.json "/v1/roadmap?as_of=$YESTERDAY"
golden roadmap-as-of-the-day.json "/v1/roadmap?as_of=$TODAY"

i=0
for item in "$I_INIT" "$I_GUIDED" "$I_TEMPLATES" "$I_SSO" "$I_EXPORT" "$I_SHIM" "$I_DARK" "$I_MOBILE_INIT" "$I_OFFLINE" "$I_PARTNER" "$B1" "$B3" "$B4" "$m"; do
	i=$((i + 1))
	golden "item-$i.json" "/v1/items/$item"
	golden "item-$i-history.json" "/v1/items/$item/history"
	golden "item-$i-why.json" "/v1/items/$item/why"
done
i=0
for obj in "$O_ONBOARD" "$O_CHURN" "$O_ENTERPRISE" "$O_MOBILE" "$O_LEGACY"; do
	i=$((i + 1))
	golden "objective-$i.json" "/v1/objectives/$obj"
done

golden audit.json "/v1/audit"
golden audit-page-2.json "/v1/audit?after=100"
golden audit-limit-20-after-40.json "/v1/audit?limit=20&after=40"
golden audit-item.json "/v1/audit?item=$I_GUIDED"
golden audit-types.json "/v1/audit?type=item.prioritised,item.reprioritised&product=default"
golden audit-actor.json "/v1/audit?actor=Z%C3%B6%C3%AB%20%C3%85ngstr%C3%B6m%20(%E4%BA%A7%E5%93%81)"
golden audit-since.json "/v1/audit?since=$T_BETWEEN_REVIEWS"
golden audit.csv "/v1/audit" text/csv
golden audit.ndjson "/v1/audit" application/x-ndjson

golden reviews.json "/v1/reviews"
golden review-november.json "/v1/reviews/$R_NOV"
golden review-december.json "/v1/reviews/$R_DEC"
golden review-december-diff.json "/v1/reviews/$R_DEC/diff?against=$R_NOV"
golden review-november-diff.json "/v1/reviews/$R_NOV/diff?against=$R_DEC"
golden review-november-pack.md "/v1/reviews/$R_NOV/pack"
golden review-december-pack.md "/v1/reviews/$R_DEC/pack" text/markdown
golden review-december-pack.html.golden "/v1/reviews/$R_DEC/pack" text/html

golden changes.json "/v1/changes"
golden changes-pending.json "/v1/changes?status=pending"
golden changes-rejected.json "/v1/changes?status=rejected"
golden change-sso.json "/v1/changes/$C_SSO"
golden change-guided-out.json "/v1/changes/$C_GUIDED_OUT"

golden capacity-default.json "/v1/products/default/capacity"
golden capacity-mobile.json "/v1/products/mobile/capacity"

golden checkpoints.json "/v1/checkpoints"
golden checkpoints-latest.json "/v1/checkpoints/latest"
golden checkpoint-latest-by-id.json "/v1/checkpoints/$CP_ID"
golden checkpoint-of-november-review.json "/v1/checkpoints/$R_NOV"
golden checkpoints-consistency.json "/v1/checkpoints/consistency?from=$CP_FIRST&to=$CP_LATEST"
golden event-5-proof.json "/v1/events/5/proof?checkpoint=$CP_LATEST"
golden public-key.txt "/v1/checkpoints/public-key"
golden export-manifest.json "/v1/export/manifest"

golden events.ndjson "/v1/events"
golden events-after-50-limit-10.ndjson "/v1/events?after=50&limit=10"

golden tokens.json "/v1/tokens"
golden token-revoked.json "/v1/tokens/$INTERN_ID"

echo "$LAST" >"$OUT/events.count"
stop
echo "make.sh: made a ledger of $LAST events in $OUT"

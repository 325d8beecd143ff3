# Bridge networks: net create/ls/inspect/rm over netlink, validation, overlap, long names,
# parallel creates, and nothing left behind (links, addresses, routes, nf_tables rules).
# Traffic: none. Links created: only bridges named after this test's random prefix.
. "$(dirname "$0")/lib.sh"
need_root
command -v ip >/dev/null 2>&1 || { skip "$TNAME" "needs ip (iproute2) to look at links"; exit 0; }
HAVE_NFT=1
command -v nft >/dev/null 2>&1 && nft list tables >/dev/null 2>&1 || HAVE_NFT=0

P=mdt$(printf '%04x' "$(rnd)")
pick A; pick B; pick C; pick D; pick W
LINKS="ip -o link | awk -F': ' '{print \$2}' | sed 's/@.*//' | sort"
ALL="${P}x ${P}a ${P}b ${P}-a-very-long-network-name-1 ${P}-a-very-long-network-name-2 ${P}c ${P}p1 ${P}p2 ${P}p3 ${P}p4 ${P}o1 ${P}o2 ${P}o3 ${P}o4 ${P}q1 ${P}q2 ${P}q3 ${P}q4"
at_exit "for n in $ALL; do '$MD' net rm \$n; done"
at_exit "ip link del ${P}dum; ip link del md-${P}c"
LINKS0=$(sh -c "$LINKS")
STRIP="awk '/^table ip mydocker-/{skip=1} !skip{print} /^}/{skip=0}'"
[ $HAVE_NFT = 1 ] && nft list ruleset | sh -c "$STRIP" > "$T/rules0"

# usage and bad input: one line, exit 1 (2 for usage), nothing created
expect_rc "net without command is usage" 2 "$MD" net
expect_rc "unknown subcommand is usage" 2 "$MD" net frob
expect_rc "create without name is usage" 2 "$MD" net create --subnet 10.$A.0.0/16
check "--help" sh -c "'$MD' net --help | grep -q '^Usage: mydocker net create'"
check "network alias" sh -c "'$MD' network ls >/dev/null"
expect_err "missing --subnet" "subnet is required" "$MD" net create ${P}x
expect_err "host bits set" "host bits set.*10\.$A\.0\.0/24" "$MD" net create --subnet 10.$A.0.1/24 ${P}x
expect_err "/31 refused" "prefix length must be 8 to 30" "$MD" net create --subnet 10.$A.0.0/31 ${P}x
expect_err "/7 refused" "prefix length must be 8 to 30" "$MD" net create --subnet 10.0.0.0/7 ${P}x
expect_err "garbage subnet" 'invalid subnet "nonsense"' "$MD" net create --subnet nonsense ${P}x
expect_err "octet > 255" "invalid subnet" "$MD" net create --subnet 10.300.0.0/16 ${P}x
expect_err "gateway outside" "invalid gateway" "$MD" net create --subnet 10.$A.0.0/24 --gateway 10.$B.0.1 ${P}x
expect_err "gateway is broadcast" "invalid gateway" "$MD" net create --subnet 10.$A.0.0/24 --gateway 10.$A.0.255 ${P}x
expect_err "other driver" "unsupported driver" "$MD" net create --driver overlay --subnet 10.$A.0.0/24 ${P}x
expect_err "bad name" "invalid network name" "$MD" net create --subnet 10.$A.0.0/24 -- -bad
expect_err "reserved name" "reserved" "$MD" net create --subnet 10.$A.0.0/24 host
testing "bad input created nothing" "ls '$MYDOCKER_ROOT/networks' 2>/dev/null | wc -l; ip -o link | grep -c '${P}x'; true" "0\n0\n"

# create
testing "create prints the name" "'$MD' net create --subnet 10.$A.0.0/16 ${P}a" "${P}a\n"
check "bridge has the gateway address" sh -c "ip -o addr show dev md-${P}a | grep -q 'inet 10\.$A\.0\.1/16'"
check "bridge is up" sh -c "ip -o link show dev md-${P}a | grep -q '[<,]UP[,>]'"
testing "ip_forward on" "cat /proc/sys/net/ipv4/ip_forward" "1\n"
testing "route_localnet on the bridge" "cat /proc/sys/net/ipv4/conf/md-${P}a/route_localnet" "1\n"
testing "create with --gateway" "'$MD' net create --driver bridge --subnet 10.$B.7.0/24 --gateway 10.$B.7.254 ${P}b" "${P}b\n"
check "custom gateway on bridge" sh -c "ip -o addr show dev md-${P}b | grep -q 'inet 10\.$B\.7\.254/24'"
testing "ls" "'$MD' net ls | awk 'NR>1 && \$2 ~ /^$P/ {print \$2, \$3, \$4, \$5, \$6}'" \
	"${P}a bridge 10.$A.0.0/16 10.$A.0.1 md-${P}a\n${P}b bridge 10.$B.7.0/24 10.$B.7.254 md-${P}b\n"
testing "ls -q" "'$MD' net ls -q" "${P}a\n${P}b\n"
testing "inspect" "'$MD' net inspect ${P}a | grep -E '\"(Name|Subnet|Gateway|Bridge)\"'" \
	"  \"Name\": \"${P}a\",\n  \"Subnet\": \"10.$A.0.0/16\",\n  \"Gateway\": \"10.$A.0.1\",\n  \"Bridge\": \"md-${P}a\",\n"
expect_err "inspect unknown" "network nope not found" "$MD" net inspect nope
check "the inspect applet finds networks" sh -c "'$MD' inspect --type network ${P}a | grep -q '\"Subnet\": \"10\.$A\.0\.0/16\"'"
TABLE=$("$MD" net inspect ${P}a | sed -n 's/.*"NftTable": "\(.*\)".*/\1/p')
at_exit "nft delete table ip $TABLE"
if [ $HAVE_NFT = 1 ]; then
	check "masquerade rule for the subnet" sh -c "nft list table ip $TABLE | grep -q 'ip saddr 10\.$A\.0\.0/16 oifname != \"md-${P}a\" masquerade comment \"net:${P}a\"'"
	check "loopback masquerade for -p on 127.0.0.1" sh -c "nft list table ip $TABLE | grep -q 'ip saddr 127\.0\.0\.0/8 oifname \"md-${P}a\" masquerade'"
	check "guard: no new connections from the bridge to 127/8" sh -c "nft list table ip $TABLE | grep -q 'iifname \"md-${P}a\" ip daddr 127\.0\.0\.0/8 ct state.*drop'"
else
	skip "nf_tables rules" "nft not installed"
fi

# duplicates and overlaps
expect_err "duplicate name" "network with name ${P}a already exists" "$MD" net create --subnet 10.$C.0.0/24 ${P}a
expect_err "overlapping subnet (inside)" "overlaps network ${P}a" "$MD" net create --subnet 10.$A.5.0/24 ${P}x
expect_err "overlapping subnet (around)" "overlaps network ${P}b" "$MD" net create --subnet 10.$B.0.0/16 ${P}x
ip link add ${P}dum type bridge && ip addr add 10.$W.1.1/24 dev ${P}dum && ip link set ${P}dum up
expect_err "overlapping a host route" "overlaps host route 10\.$W\.1\.0/24 dev ${P}dum" "$MD" net create --subnet 10.$W.0.0/16 ${P}x
ip link del ${P}dum
testing "refusals created nothing" "ls '$MYDOCKER_ROOT/networks' | wc -l; ip -o link | grep -c '${P}x'; true" "2\n0\n"

# long names: within IFNAMSIZ, distinct; a taken bridge name is avoided
L1=${P}-a-very-long-network-name-1 L2=${P}-a-very-long-network-name-2
"$MD" net create --subnet 10.$C.0.0/24 $L1 >/dev/null
"$MD" net create --subnet 10.$C.1.0/24 $L2 >/dev/null
BR1=$("$MD" net inspect $L1 | sed -n 's/.*"Bridge": "\(.*\)".*/\1/p')
BR2=$("$MD" net inspect $L2 | sed -n 's/.*"Bridge": "\(.*\)".*/\1/p')
check "long names: bridges exist, <= 15 chars, distinct" sh -c "[ -n '$BR1' ] && [ '$BR1' != '$BR2' ] && [ \${#BR1} -le 15 ] && [ \${#BR2} -le 15 ] && ip link show dev '$BR1' >/dev/null && ip link show dev '$BR2' >/dev/null"
ip link add md-${P}c type bridge
"$MD" net create --subnet 10.$C.2.0/24 ${P}c >/dev/null
BR3=$("$MD" net inspect ${P}c | sed -n 's/.*"Bridge": "\(.*\)".*/\1/p')
check "taken bridge name avoided" sh -c "[ -n '$BR3' ] && [ '$BR3' != 'md-${P}c' ] && ip -o addr show dev '$BR3' | grep -q 'inet 10\.$C\.2\.1/24'"
ip link del md-${P}c

# parallel: distinct subnets all succeed; overlapping ones: exactly one wins
for i in 1 2 3 4; do "$MD" net create --subnet 10.$D.$i.0/24 ${P}p$i >/dev/null 2>&1 & done; wait
testing "parallel creates of distinct subnets" "'$MD' net ls -q | grep -c '^${P}p'" "4\n"
for i in 1 2 3 4; do "$MD" net create --subnet 10.$D.$((16 * i)).0/20 ${P}o$i >/dev/null 2>&1 & done; wait
# 10.D.16/20, 32/20, 48/20, 64/20 do not overlap each other, but 10.D.1-4/24 only with none of them:
testing "parallel creates: overlap checks hold" "'$MD' net ls -q | grep -c '^${P}o'" "4\n"
for i in 1 2 3 4; do "$MD" net create --subnet 10.$D.128.0/$((16 + i)) ${P}q$i >/dev/null 2>&1 & done; wait
testing "parallel overlapping creates: exactly one wins" "'$MD' net ls -q | grep -c '^${P}q'" "1\n"

# rm
expect_err "rm unknown" "network nope not found" "$MD" net rm nope
testing "rm prints names" "'$MD' net rm ${P}a ${P}b" "${P}a\n${P}b\n"
check "bridge gone" sh -c "! ip link show dev md-${P}a 2>/dev/null"
for n in $ALL; do "$MD" net rm $n >/dev/null 2>&1; done
testing "no network left" "'$MD' net ls -q | wc -l; ls '$MYDOCKER_ROOT/networks' | wc -l" "0\n0\n"
testing "links as before" "$LINKS" "$LINKS0\n"
testing "no addresses or routes left" "ip -o addr | grep -cE ' 10\.($A|$B|$C|$D)\.'; ip -o route | grep -cE '^10\.($A|$B|$C|$D)\.'; true" "0\n0\n"
if [ $HAVE_NFT = 1 ]; then
	testing "nf_tables table gone" "nft list tables | grep -c ' $TABLE\$'; true" "0\n"
	# the ruleset as before, other roots' mydocker-* tables (parallel test runs) aside
	testing "nft ruleset as before" "nft list ruleset | $STRIP | cmp - '$T/rules0' && echo same" "same\n"
fi

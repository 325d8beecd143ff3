# run --net on bridge networks: addresses from IPAM, containers reach each other, the host reaches
# them, -p on 127.0.0.1, port conflicts, --net none/host, a /16 with many containers started in
# parallel, ps/inspect show the IP, and nothing is left after rm and net rm.
# Traffic goes only between the host and this test's own containers (their addresses, 127.0.0.1).
. "$(dirname "$0")/lib.sh"
need_root
command -v ip >/dev/null 2>&1 || { skip "$TNAME" "needs ip (iproute2) to look at links"; exit 0; }
HAVE_NFT=1
command -v nft >/dev/null 2>&1 && nft list tables >/dev/null 2>&1 || HAVE_NFT=0
import_busybox || { _fail "import the busybox image"; exit 0; }
BB=$(ls "$MYDOCKER_ROOT"/images/layers/*/diff/bin/busybox 2>/dev/null | head -n 1)
[ -x "$BB" ] || BB=$(command -v busybox)

P=mdt$(printf '%04x' "$(rnd)")
pick A; pick B; pick C
HP=$((20000 + $(rnd) % 20000)) HP2=$((40000 + $(rnd) % 20000))
NET=${P}n NET16=${P}w
LINKS="ip -o link | awk -F': ' '{print \$2}' | sed 's/@.*//' | sort"
LINKS0=$(sh -c "$LINKS")
STRIP="awk '/^table ip mydocker-/{skip=1} !skip{print} /^}/{skip=0}'"
[ $HAVE_NFT = 1 ] && nft list ruleset | sh -c "$STRIP" > "$T/rules0"
at_exit "'$MD' net rm $NET $NET16"
at_exit "ip netns del ${P}ext; ip link del ${P}h"
at_exit "for id in \$(ls '$MYDOCKER_ROOT/containers'); do '$MD' rm -f \$id; done"
mkdir -p "$T/www" && echo "hello from $P" > "$T/www/index.html"
ipof() { "$MD" inspect "$1" | sed -n 's/.*"IPAddress": "\([0-9.]*\)".*/\1/p'; }
# wait until a URL answers (httpd starting), at most ~5 s
await() { i=0; while [ $i -lt 50 ]; do timeout 2 "$BB" wget -q -O /dev/null "$1" 2>/dev/null && return 0; sleep 0.1; i=$((i+1)); done; return 1; }

"$MD" net create --subnet 10.$A.0.0/24 $NET >/dev/null
"$MD" net create --subnet 10.$B.0.0/16 $NET16 >/dev/null
TABLE=$("$MD" net inspect $NET | sed -n 's/.*"NftTable": "\(.*\)".*/\1/p')
at_exit "nft delete table ip $TABLE"

# validation first: nothing is created
expect_err "unknown network" "network nope not found" "$MD" run --net nope busybox true
expect_rc "unknown network: exit 125" 125 "$MD" run --net nope busybox true
expect_err "-p without a bridge network" "-p needs a bridge network" "$MD" run -p 8080:80 busybox true
expect_err "bad -p" "invalid port mapping" "$MD" run --net $NET -p 80 busybox true
testing "refused runs created no container" "ls '$MYDOCKER_ROOT/containers' | wc -l" "0\n"

# --net none (default) and host
testing "--net none: only lo, up" "'$MD' run --rm busybox sh -c 'ip -o link | wc -l; ip -o link show lo | grep -c UP'" "1\n1\n"
testing "--net host: the host's links" "'$MD' run --rm --net host busybox sh -c 'ip -o link | wc -l'" "$(ip -o link | wc -l)\n"

# a web server on the network, published on 127.0.0.1
"$MD" run -d --name ${P}web --net $NET -v "$T/www:/www:ro" -p 127.0.0.1:$HP:80 -p $HP2:80 busybox httpd -f -p 80 -h /www >/dev/null
IP1=$(ipof ${P}web)
testing "first container gets .2" "echo $IP1" "10.$A.0.2\n"
check "httpd answers" await "http://$IP1/"
testing "inside: eth0 address, lo up, default route via the gateway" \
	"'$MD' run --rm --network $NET busybox sh -c 'ip -o addr show eth0 | grep -o \"inet [0-9./]*\"; ip -o link show lo | grep -c UP; ip route | grep ^default'" \
	"inet 10.$A.0.3/24\n1\ndefault via 10.$A.0.1 dev eth0 \n"
testing "container to container" "'$MD' run --rm --net $NET busybox timeout 5 wget -q -O - http://$IP1/" "hello from $P\n"
testing "host to container by IP" "timeout 5 '$BB' wget -q -O - http://$IP1/" "hello from $P\n"
testing "-p reachable on 127.0.0.1" "timeout 5 '$BB' wget -q -O - http://127.0.0.1:$HP/" "hello from $P\n"
testing "-p on all addresses reachable on 127.0.0.1" "timeout 5 '$BB' wget -q -O - http://127.0.0.1:$HP2/" "hello from $P\n"
testing "a container reaches a published port via the gateway" \
	"'$MD' run --rm --net $NET busybox timeout 5 wget -q -O - http://10.$A.0.1:$HP2/" "hello from $P\n"
# "another host": a network namespace of this test, linked to the host by a veth pair
if ip netns add ${P}ext 2>/dev/null && ip link add ${P}h type veth peer name eth0 netns ${P}ext; then
	ip addr add 10.$C.0.1/30 dev ${P}h && ip link set ${P}h up
	ip -n ${P}ext addr add 10.$C.0.2/30 dev eth0 && ip -n ${P}ext link set eth0 up && ip -n ${P}ext link set lo up
	ip -n ${P}ext route add default via 10.$C.0.1
	testing "-p reachable from another host" "ip netns exec ${P}ext timeout 5 '$BB' wget -q -O - http://10.$C.0.1:$HP2/" "hello from $P\n"
	check_fail "-p on 127.0.0.1 only: not from another host" ip netns exec ${P}ext timeout 3 "$BB" wget -q -O - http://10.$C.0.1:$HP/
	ip netns del ${P}ext; ip link del ${P}h 2>/dev/null
else
	skip "-p from another host" "cannot make a network namespace with ip netns"
fi
check "ps shows the IP and the port mappings" sh -c "'$MD' ps | grep ${P}web | grep -q '$IP1, 127.0.0.1:$HP->80/tcp, 0.0.0.0:$HP2->80/tcp'"
check "inspect shows the network" sh -c "'$MD' inspect ${P}web | grep -q '\"Network\": \"$NET\"'"
check "net inspect lists the container" sh -c "'$MD' net inspect $NET | grep -q '\"IPv4Address\": \"$IP1/24\"'"
if [ $HAVE_NFT = 1 ]; then
	testing "DNAT rules in prerouting and output" \
		"nft list table ip $TABLE | grep -c 'ip daddr 127.0.0.1 tcp dport $HP dnat to $IP1:80'" "2\n"
	testing "DNAT for all local addresses" \
		"nft list table ip $TABLE | grep -c 'fib daddr type local tcp dport $HP2 dnat to $IP1:80'" "2\n"
fi

# udp
"$MD" run -d --name ${P}udp --net $NET -p 127.0.0.1:$HP:53/udp busybox sleep 300 >/dev/null
IPU=$(ipof ${P}udp)
[ $HAVE_NFT = 1 ] && testing "udp mapping on the same port number as a tcp one" \
	"nft list table ip $TABLE | grep -c 'ip daddr 127.0.0.1 udp dport $HP dnat to $IPU:53'" "2\n"
"$MD" rm -f ${P}udp >/dev/null

# conflicts
N0=$(ls "$MYDOCKER_ROOT/containers" | wc -l)
expect_err "host port already mapped" "host port $HP/tcp is already mapped" "$MD" run -d --net $NET -p $HP:80 busybox sleep 100
testing "refused run left no container and no address" \
	"ls '$MYDOCKER_ROOT/containers' | wc -l; '$MD' net inspect $NET | grep -c IPv4Address" "$N0\n1\n"
expect_err "net rm refused while in use" "in use by container" "$MD" net rm $NET

# exit releases the address, the veth and the port rules
ID1=$("$MD" inspect ${P}web | sed -n 's/.*"Id": "\([0-9a-f]*\)".*/\1/p' | head -n 1)
"$MD" stop -t 1 ${P}web >/dev/null
testing "after exit: address released" "'$MD' net inspect $NET | grep -c IPv4Address; true" "0\n"
# the veth goes with the container's network namespace, which the kernel dismantles moments later
V1=veth$(echo $ID1 | cut -c1-7)
testing "after exit: veth gone (with the namespace)" \
	"for i in \$(seq 50); do ip -o link | grep -q '$V1' || break; sleep 0.1; done; ip -o link | grep -c '$V1'; true" "0\n"
[ $HAVE_NFT = 1 ] && testing "after exit: port rules gone" "nft list table ip $TABLE | grep -c dport; true" "0\n"
"$MD" start ${P}web >/dev/null
testing "restart gets an address again" "'$MD' net inspect $NET | grep -c IPv4Address" "1\n"
check "and serves again on 127.0.0.1" await "http://127.0.0.1:$HP/"
"$MD" rm -f ${P}web >/dev/null

# a /16 with 20 containers started in parallel: distinct addresses
for i in $(seq 20); do "$MD" run -d --net $NET16 --name ${P}m$i busybox sleep 300 >/dev/null 2>"$T/err$i" & done; wait
for i in $(seq 20); do ipof ${P}m$i; done > "$T/ips"
testing "20 parallel runs: 20 distinct addresses" "sort -u '$T/ips' | grep -c '^10\.$B\.0\.'" "20\n"
testing "the lowest ones: .2 to .21" "sort -t. -k4 -n '$T/ips' | sed -n '1p;\$p'" "10.$B.0.2\n10.$B.0.21\n"
testing "ps shows the IPs" "'$MD' ps | grep -c ' 10\.$B\.0\.'" "20\n"
IPM=$(sed -n 5p "$T/ips")
testing "containers on the /16 reach each other" "'$MD' run --rm --net $NET16 busybox sh -c 'ping -c 1 -W 2 $IPM >/dev/null && echo ok'" "ok\n"
for i in $(seq 20); do "$MD" rm -f ${P}m$i >/dev/null & done; wait

# endpoint updates are not synced: a power cut in one can leave the record empty; the definition,
# kept synced beside it, stands in (no endpoints: after a power cut nothing runs)
check "the definition is kept beside the record" test -s "$MYDOCKER_ROOT/networks/$NET.def"
: > "$MYDOCKER_ROOT/networks/$NET.json"
testing "an emptied record: net ls still lists it" "'$MD' net ls -q | grep -c '^$NET\$'" "1\n"
testing "... net inspect shows its subnet" "'$MD' net inspect $NET | grep -c '\"10\.$A\.0\.0/24\"'" "1\n"
testing "... run --net gets an address on it" \
	"'$MD' run --rm --net $NET busybox ip -4 -o addr show eth0 | grep -o ' 10\.$A\.0\.[0-9]*/24'" " 10.$A.0.2/24\n"
testing "... and the record is whole again" "grep -c '\"Subnet\": \"10\.$A\.0\.0/24\"' '$MYDOCKER_ROOT/networks/$NET.json'" "1\n"

# after rm and net rm nothing is left
testing "all addresses released" "'$MD' net inspect $NET16 | grep -c IPv4Address; true" "0\n"
testing "net rm" "'$MD' net rm $NET $NET16" "$NET\n$NET16\n"
testing "net rm removed the records and definitions" "ls '$MYDOCKER_ROOT/networks' | wc -l" "0\n"
# veths of exited containers go with their namespaces: give the kernel a moment
i=0; while [ $i -lt 50 ] && [ "$(sh -c "$LINKS")" != "$LINKS0" ]; do sleep 0.1; i=$((i + 1)); done
testing "links as before" "$LINKS" "$LINKS0\n"
testing "no addresses or routes left" "ip -o addr | grep -cE ' 10\.($A|$B)\.'; ip -o route | grep -cE '^10\.($A|$B)\.'; true" "0\n0\n"
if [ $HAVE_NFT = 1 ]; then
	testing "nf_tables table gone" "nft list tables | grep -c ' $TABLE\$'; true" "0\n"
	testing "nft ruleset as before" "nft list ruleset | $STRIP | cmp - '$T/rules0' && echo same" "same\n"
fi

package httpapi

import (
	"net/http"
	"net/netip"
	"strings"
)

// clientAddr returns the address a request came from, as the key of the
// login rate limit: the TCP peer, or, when the peer is one of the trusted
// proxies, the rightmost hop of X-Forwarded-For that is not one of them.
// Hops left of that one are whatever the client wrote and are never
// believed. An IPv6 client counts by its /64, the block one subscriber
// usually holds, so that hopping addresses within it buys nothing.
func (s *Server) clientAddr(r *http.Request) string {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr // not TCP (a test's recorder): whatever it is
	}
	addr := peer.Addr().Unmap()
	if s.trusted(addr) {
		addr = s.forwardedFor(r.Header["X-Forwarded-For"], addr)
	}
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}

// forwardedFor walks the X-Forwarded-For hops from the right, the end the
// trusted proxies appended to, past every trusted one. A hop that does not
// parse ends the walk at the proxy that passed it on; when every hop is
// trusted, the leftmost is the client.
func (s *Server) forwardedFor(lines []string, peer netip.Addr) netip.Addr {
	client := peer
	for i := len(lines) - 1; i >= 0; i-- {
		hops := lines[i]
		for hops != "" {
			var hop string
			if j := strings.LastIndexByte(hops, ','); j >= 0 {
				hop, hops = hops[j+1:], hops[:j]
			} else {
				hop, hops = hops, ""
			}
			addr, ok := parseHop(strings.TrimSpace(hop))
			if !ok {
				return client
			}
			client = addr
			if !s.trusted(addr) {
				return client
			}
		}
	}
	return client
}

// parseHop reads one X-Forwarded-For entry: an address, optionally with a
// port (IPv6 then in brackets).
func parseHop(hop string) (netip.Addr, bool) {
	if addr, err := netip.ParseAddr(hop); err == nil {
		return addr.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(hop); err == nil {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}

func (s *Server) trusted(addr netip.Addr) bool {
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

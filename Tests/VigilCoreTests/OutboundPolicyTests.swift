import Testing
import VigilCore

/// The outbound-fetch policy's address rules: every spelling of a private address is one, and only public unicast
/// passes unless the operator allowed a range.
@Suite("Outbound addresses")
struct OutboundPolicyTests {
    let policy = OutboundAddressPolicy()

    func refusal(_ host: String) -> String? {
        guard let address = IPAddress(host: host) else { return "not an address" }
        return policy.refusal(for: address)
    }

    @Test(
        "loopback, private, link-local, CGNAT, multicast and reserved are refused, in every IPv4 spelling",
        arguments: [
            ("127.0.0.1", "loopback"), ("2130706433", "loopback"), ("0177.0.0.1", "loopback"),
            ("0x7f.0.0.1", "loopback"), ("127.1", "loopback"), ("0x7f000001", "loopback"), ("127.0.0.1.", "loopback"),
            ("10.0.0.1", "private"), ("012.1", "private"), ("172.16.5.4", "private"), ("192.168.1.1", "private"),
            ("169.254.169.254", "link-local"), ("100.64.0.1", "carrier-grade NAT"), ("0.0.0.0", "unspecified"),
            ("0", "unspecified"), ("224.0.0.1", "multicast"), ("255.255.255.255", "reserved"),
            ("198.18.0.1", "benchmarking"), ("192.0.2.1", "documentation"),
        ])
    func refusedV4(host: String, why: String) {
        #expect(refusal(host) == why, "\(host)")
    }

    @Test(
        "IPv6 loopback, unique-local, link-local, and IPv4 behind mapped, NAT64 and 6to4 forms are refused",
        arguments: [
            ("[::1]", "loopback"), ("::", "unspecified"), ("fd00::1", "private"), ("fe80::1", "link-local"),
            ("ff02::1", "multicast"), ("[::ffff:127.0.0.1]", "loopback (inside ::ffff:7f00:1)"),
            ("::ffff:7f00:1", "loopback (inside ::ffff:7f00:1)"),
            ("64:ff9b::a9fe:a9fe", "link-local (inside 64:ff9b::a9fe:a9fe)"),
            ("2002:0a00:0001::", "private (inside 2002:a00:1::)"), ("::127.0.0.1", "loopback (inside ::7f00:1)"),
            ("2001:db8::1", "documentation"), ("100::1", "reserved"),
        ])
    func refusedV6(host: String, why: String) {
        #expect(refusal(host) == why, "\(host)")
    }

    @Test("public addresses pass; names are not addresses")
    func publicAddresses() {
        #expect(refusal("93.184.216.34") == nil)
        #expect(refusal("8.8.8.8") == nil)
        #expect(refusal("2606:4700::1111") == nil)
        #expect(IPAddress(host: "example.com") == nil)
        #expect(IPAddress(host: "1.2.3.4.5") == nil)
        #expect(IPAddress(host: "256.1.1.1") == nil)
    }

    @Test("an allowed range lets its addresses through, the rest stay refused; bad ranges are named")
    func allowed() throws {
        let lab = try OutboundAddressPolicy(allowing: "127.0.0.0/8, fd00::/8")
        #expect(lab.refusal(for: IPAddress(host: "127.0.0.1")!) == nil)
        #expect(lab.refusal(for: IPAddress(host: "::ffff:127.0.0.1")!) == nil)
        #expect(lab.refusal(for: IPAddress(host: "fd12::1")!) == nil)
        #expect(lab.refusal(for: IPAddress(host: "10.0.0.1")!) == "private")
        #expect(lab.refusal(for: IPAddress(host: "::1")!) == "loopback")
        #expect(throws: RangeListError(setting: "fetch_allow_cidrs", range: "10.0.0.0/33")) {
            try OutboundAddressPolicy(allowing: "10.0.0.0/33")
        }
        #expect(throws: RangeListError(setting: "trusted_proxies", range: "nginx")) {
            try OutboundAddressPolicy(allowing: "nginx", setting: "trusted_proxies")
        }
        #expect(IPRange(cidr: "10.1.2.3/8")!.contains(IPAddress(host: "10.200.0.1")!))
        #expect(!IPRange(cidr: "10.0.0.0/8")!.contains(IPAddress(host: "11.0.0.1")!))
        #expect(IPRange(cidr: "0x7f.1/8") == nil, "ranges are written plainly")
    }
}

@Suite("Sign-in redirects")
struct LocalRedirectTests {
    @Test(
        "only a same-site path is kept",
        arguments: [
            "/%09/evil.example/", "//evil.example/", "/\\evil.example/", "/\t/evil.example", "https://evil.example/",
            "evil.example", "/%2F/evil.example", "/%5Cevil.example", "/a/%0d%0aSet-Cookie:x", "/a b", "/\u{2028}x",
            "/%E2%80%AE", "", "/%zz",
        ])
    func refused(next: String) {
        #expect(LocalRedirect.path(next) == nil, "\(next.debugDescription)")
    }

    @Test("ordinary paths, queries and escapes pass unchanged")
    func kept() {
        for next in ["/cases/12", "/cases?state=received&page=2", "/list/3", "/audit?subject=case%3A5"] {
            #expect(LocalRedirect.path(next) == next)
        }
    }
}

@Suite("Client addresses behind proxies")
struct ClientAddressTests {
    let proxy = [IPRange(cidr: "127.0.0.1/32")!, IPRange(cidr: "10.0.0.0/8")!]

    @Test("without trusted proxies the peer is the client, whatever the headers say")
    func untrusted() {
        #expect(
            ClientAddress.resolve(peer: "127.0.0.1", forwarded: [], forwardedFor: ["203.0.113.9"], trusted: [])
                == "127.0.0.1")
        #expect(
            ClientAddress.resolve(peer: "198.51.100.7", forwarded: [], forwardedFor: ["203.0.113.9"], trusted: proxy)
                == "198.51.100.7", "a peer that is not a trusted proxy is believed about nothing")
    }

    @Test("from a trusted proxy the right-most untrusted address wins; spoofed entries left of it are ignored")
    func trusted() {
        #expect(
            ClientAddress.resolve(
                peer: "127.0.0.1", forwarded: [], forwardedFor: ["1.1.1.1, 203.0.113.9", "10.0.0.5"], trusted: proxy)
                == "203.0.113.9")
        #expect(
            ClientAddress.resolve(
                peer: "127.0.0.1",
                forwarded: [#"for=192.0.2.60;proto=http, for="[2001:db8:cafe::17]:4711""#], forwardedFor: ["9.9.9.9"],
                trusted: proxy) == "2001:db8:cafe::17", "Forwarded is preferred to X-Forwarded-For")
        #expect(
            ClientAddress.resolve(peer: "127.0.0.1", forwarded: [], forwardedFor: ["203.0.113.9:5555"], trusted: proxy)
                == "203.0.113.9")
        #expect(
            ClientAddress.resolve(peer: "127.0.0.1", forwarded: [], forwardedFor: [], trusted: proxy) == "127.0.0.1")
        #expect(
            ClientAddress.resolve(
                peer: "::ffff:127.0.0.1", forwarded: [], forwardedFor: ["203.0.113.9"], trusted: proxy)
                == "203.0.113.9", "a mapped peer address is the same proxy")
    }
}

@Suite("Need-to-know")
struct NeedToKnowTests {
    @Test("law-enforcement liaison opens referred cases and its own holds; other roles open every case")
    func liaison() {
        #expect(!Role.leLiaison.mayOpenCase(referred: false, holdPlacedBy: nil, user: "lee"))
        #expect(!Role.leLiaison.mayOpenCase(referred: false, holdPlacedBy: "other", user: "lee"))
        #expect(Role.leLiaison.mayOpenCase(referred: false, holdPlacedBy: "lee", user: "lee"))
        #expect(Role.leLiaison.mayOpenCase(referred: true, holdPlacedBy: nil, user: "lee"))
        for role in [Role.analyst, .supervisor, .admin] {
            #expect(role.mayOpenCase(referred: false, holdPlacedBy: nil, user: "ana"))
        }
    }
}

@Suite("Listed addresses are checked as listed")
struct ListOriginTests {
    @Test("the scheme and port typed are kept beside the canonical value; plain http on 80 needs none")
    func origins() {
        #expect(ListTarget.origin(typed: "http://Host.test:8080/x") == "http://host.test:8080")
        #expect(ListTarget.origin(typed: "https://host.test/x") == "https://host.test")
        #expect(ListTarget.origin(typed: "https://host.test:8443/x") == "https://host.test:8443")
        #expect(ListTarget.origin(typed: "http://host.test/x") == nil)
        #expect(ListTarget.origin(typed: "host.test:80/x") == nil)
        #expect(ListTarget.origin(typed: "127.0.0.1:9000/a") == "http://127.0.0.1:9000")
    }
}

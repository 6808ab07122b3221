import Testing
import VigilCore

/// Every canonicalisation example published on Google's Safe Browsing v4 "URLs and Hashing" page, in its order.
/// (`\u{80}` in the published `http://\x01\x80.com/` is a raw byte, so that one is checked on bytes below.)
private let safeBrowsingExamples: [(input: String, canonical: String)] = [
    ("http://host/%25%32%35", "http://host/%25"),
    ("http://host/%25%32%35%25%32%35", "http://host/%25%25"),
    ("http://host/%2525252525252525", "http://host/%25"),
    ("http://host/asdf%25%32%35asd", "http://host/asdf%25asd"),
    ("http://host/%%%25%32%35asd%%", "http://host/%25%25%25asd%25%25"),
    ("http://www.google.com/", "http://www.google.com/"),
    (
        "http://%31%36%38%2e%31%38%38%2e%39%39%2e%32%36/%2E%73%65%63%75%72%65/%77%77%77%2E%65%62%61%79%2E%63%6F%6D/",
        "http://168.188.99.26/.secure/www.ebay.com/"
    ),
    (
        "http://195.127.0.11/uploads/%20%20%20%20/.verify/.eBaysecure=updateuserdataxplimnbqmn-xplmvalidateinfoswqpcmlx=hgplmcx/",
        "http://195.127.0.11/uploads/%20%20%20%20/.verify/.eBaysecure=updateuserdataxplimnbqmn-xplmvalidateinfoswqpcmlx=hgplmcx/"
    ),
    (
        "http://host%23.com/%257Ea%2521b%2540c%2523d%2524e%25f%255E00%252611%252A22%252833%252944_55%252B",
        "http://host%23.com/~a!b@c%23d$e%25f^00&11*22(33)44_55+"
    ),
    ("http://3279880203/blah", "http://195.127.0.11/blah"),
    ("http://www.google.com/blah/..", "http://www.google.com/"),
    ("www.google.com/", "http://www.google.com/"),
    ("www.google.com", "http://www.google.com/"),
    ("http://www.evil.com/blah#frag", "http://www.evil.com/blah"),
    ("http://www.GOOgle.com/", "http://www.google.com/"),
    ("http://www.google.com.../", "http://www.google.com/"),
    ("http://www.google.com/foo\tbar\rbaz\n2", "http://www.google.com/foobarbaz2"),
    ("http://www.google.com/q?", "http://www.google.com/q?"),
    ("http://www.google.com/q?r?", "http://www.google.com/q?r?"),
    ("http://www.google.com/q?r?s", "http://www.google.com/q?r?s"),
    ("http://evil.com/foo#bar#baz", "http://evil.com/foo"),
    ("http://evil.com/foo;", "http://evil.com/foo;"),
    ("http://evil.com/foo?bar;", "http://evil.com/foo?bar;"),
    ("http://notrailingslash.com", "http://notrailingslash.com/"),
    ("http://www.gotaport.com:1234/", "http://www.gotaport.com/"),
    ("  http://www.google.com/  ", "http://www.google.com/"),
    ("http:// leadingspace.com/", "http://%20leadingspace.com/"),
    ("http://%20leadingspace.com/", "http://%20leadingspace.com/"),
    ("%20leadingspace.com/", "http://%20leadingspace.com/"),
    ("https://www.securesite.com/", "https://www.securesite.com/"),
    ("http://host.com/ab%23cd", "http://host.com/ab%23cd"),
    ("http://host.com//twoslashes?more//slashes", "http://host.com/twoslashes?more//slashes"),
]

/// Hostile and edge-case inputs beyond the published list, with the canonical form Vigil gives them.
private let hostileExamples: [(input: String, canonical: String)] = [
    // user information and ports are dropped; the last "@" ends the user information, as in browsers
    ("http://user:pass@Example.com:8080/a", "http://example.com/a"),
    ("http://good.example@evil.example/", "http://evil.example/"),
    ("http://a@b@evil.example/x", "http://evil.example/x"),
    ("http://evil.example%2F@good.example/", "http://good.example/"),
    ("https://example.com:/", "https://example.com/"),
    ("www.example.com:80", "http://www.example.com/"),
    ("localhost:8080/admin", "http://localhost/admin"),
    // IPv4 in every legal spelling
    ("http://0xc3.0x7f.0x0.0xb/", "http://195.127.0.11/"),
    ("http://0303.0177.0.013/", "http://195.127.0.11/"),
    ("http://195.127.11/", "http://195.127.0.11/"),
    ("http://195.8323083/", "http://195.127.0.11/"),
    ("http://0xC37F000B/", "http://195.127.0.11/"),
    ("http://012.034.01.055/", "http://10.28.1.45/"),
    ("http://12.0x12.01234/", "http://12.18.2.156/"),
    ("http://4294967295/", "http://255.255.255.255/"),
    ("http://1.2.3.4./", "http://1.2.3.4/"),
    ("http://%31.%32.%33.%34/", "http://1.2.3.4/"),
    // things that look numeric but are names
    ("http://4294967296/", "http://4294967296/"),
    ("http://256.1.1.1/", "http://256.1.1.1/"),
    ("http://1.2.3.4.5/", "http://1.2.3.4.5/"),
    ("http://1.2.3.09/", "http://1.2.3.09/"),
    ("http://1234x.com/", "http://1234x.com/"),
    // IPv6 literals: RFC 5952 form; IPv4-mapped and NAT64 become IPv4
    ("http://[2001:0DB8:0000::1]/", "http://[2001:db8::1]/"),
    ("http://[2001:470:1:18::114]/", "http://[2001:470:1:18::114]/"),
    (
        "http://[FEDC:BA98:7654:3210:FEDC:BA98:7654:3210]:80/index.html",
        "http://[fedc:ba98:7654:3210:fedc:ba98:7654:3210]/index.html"
    ),
    ("http://[2001:db8:0:1:1:1:1:1]/", "http://[2001:db8:0:1:1:1:1:1]/"),
    ("http://[2001:0:0:1:0:0:0:1]/", "http://[2001:0:0:1::1]/"),
    ("http://[::]/", "http://[::]/"),
    ("http://[::1]:8080/x", "http://[::1]/x"),
    ("http://[::ffff:1.2.3.4]/", "http://1.2.3.4/"),
    ("http://[::ffff:c37f:b]/", "http://195.127.0.11/"),
    ("http://[64:ff9b::1.2.3.4]/", "http://1.2.3.4/"),
    ("http://[::192.9.5.5]/ipng", "http://[::c009:505]/ipng"),
    // internationalised names become Punycode, after compatibility mapping and lowercasing
    ("http://www.bücher...com/../", "http://www.xn--bcher-kva.com/"),
    ("http://www.%C3%BCmlat.com/", "http://www.xn--mlat-zra.com/"),
    ("http://MÜNCHEN.example/", "http://xn--mnchen-3ya.example/"),
    ("http://ｅｘａｍｐｌｅ。com/", "http://example.com/"),
    ("http://１２７．０．０．１/", "http://127.0.0.1/"),
    ("http://xn--mnchen-3ya.example/", "http://xn--mnchen-3ya.example/"),
    // structural characters produced by unescaping stay escaped in the host, "?" in the path
    ("http://evil.example%2Fpath/", "http://evil.example%2Fpath/"),
    ("http://a%3A80/", "http://a%3A80/"),
    ("http://a%40b/", "http://a%40b/"),
    ("http://host/a%3Fb?c%3Fd", "http://host/a%3Fb?c?d"),
    // paths
    ("http://host/a/./b/../../c", "http://host/c"),
    ("http://host/../../..", "http://host/"),
    ("http://host/%2e%2E/%2e/x", "http://host/x"),
    ("http://host/a//b///c////", "http://host/a/b/c/"),
    ("http://host\\path\\to", "http://host/path/to"),
    ("http://host/a?b\\c", "http://host/a?b\\c"),
    ("http://host/...", "http://host/..."),
    ("http://host/a/.", "http://host/a/"),
    // escapes: invalid sequences are kept literally, valid ones decoded, upper-case hex on output
    ("http://host/%zz%4", "http://host/%25zz%254"),
    ("http://host/%", "http://host/%25"),
    ("http://host/%7e%7E", "http://host/~~"),
    ("http://host/%0a%0D%09", "http://host/%0A%0D%09"),
    ("http://host/%c3%a9", "http://host/%C3%A9"),
    ("http://host/é", "http://host/%C3%A9"),
    ("http://host/%%32%35", "http://host/%25"),
    ("http://host/%25%34%31", "http://host/A"),
    ("http://host/%00", "http://host/%00"),
    ("http://host/?q=%2520x", "http://host/?q=%20x"),
    ("http://host/?", "http://host/?"),
    // control characters and white space
    ("\u{0}\u{1F} http://host/a b \u{7F}", "http://host/a%20b%20%7F"),
    ("\thttp://ho\nst/\r", "http://host/"),
    // schemes: case, slashes, scheme-relative, ftp and web sockets
    ("HTTPS://Example.COM", "https://example.com/"),
    ("http:example.com/a", "http://example.com/a"),
    ("http:\\\\example.com\\a", "http://example.com/a"),
    ("http:////example.com/", "http://example.com/"),
    ("//example.com/a", "http://example.com/a"),
    ("ftp://ftp.example.com/pub/", "ftp://ftp.example.com/pub/"),
    ("wss://chat.example.com/room", "wss://chat.example.com/room"),
    ("http%3A%2F%2Fwackyurl.com:80/", "http://http%3A%2F%2Fwackyurl.com/"),
    ("http://W!eird<>Ho$^.com/", "http://w!eird<>ho$^.com/"),
]

@Suite("URL canonicalisation")
struct URLCanonicalizationTests {
    @Test("every published Safe Browsing example", arguments: safeBrowsingExamples)
    func publishedExample(_ example: (input: String, canonical: String)) throws {
        // given a published input
        // when it is canonicalised
        let canonical = try CanonicalURL.canonicalize(example.input)
        // then it matches Google's expected output
        #expect(canonical == example.canonical)
    }

    @Test("the published example with raw bytes 0x01 0x80 in the host")
    func publishedRawByteExample() throws {
        // given "http://\x01\x80.com/" as bytes (0x80 alone is not UTF-8, so it cannot be a Swift string)
        let bytes: [UInt8] = Array("http://".utf8) + [0x01, 0x80] + Array(".com/".utf8)
        // when
        let canonical = try CanonicalURL.canonicalize(utf8: bytes)
        // then
        #expect(canonical == "http://%01%80.com/")
    }

    @Test("hostile and edge cases", arguments: hostileExamples)
    func hostileExample(_ example: (input: String, canonical: String)) throws {
        // given an input outside the published list, when canonicalised, then the documented result
        #expect(try CanonicalURL.canonicalize(example.input) == example.canonical)
    }

    @Test("canonicalising twice changes nothing", arguments: safeBrowsingExamples + hostileExamples)
    func idempotent(_ example: (input: String, canonical: String)) throws {
        // given a canonical form
        let once = try CanonicalURL.canonicalize(example.input)
        // when it is canonicalised again
        let twice = try CanonicalURL.canonicalize(once)
        // then it is a fixed point, so stored canonical URLs can be re-checked
        #expect(twice == once)
    }

    @Test("random hostile inputs either fail cleanly or canonicalise to a fixed point")
    func randomIdempotence() {
        // given 3,000 deterministic pseudo-random URLs built from the characters that matter to the rules
        let alphabet = [
            "%", "2", "5", "3", "F", "f", "a", "A", "0", "x", ".", "..", "/", "\\", ":", "@", "[", "]", "?", "#", " ",
            "\t", "ü", "％", "。", "1", "9", "ff", ":80", "::", "%2e", "%2F", "%25", "%3F", "%40", "xn--", "\u{7F}",
        ]
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        var failures: [String] = []
        for _ in 0..<3_000 {
            var input = ["http://", "", "HTTPS://", "//", "ftp:"][Int(state % 5)]
            for _ in 0..<(8 + Int(state % 24)) {
                state ^= state << 13
                state ^= state >> 7
                state ^= state << 17
                input += alphabet[Int(state % UInt64(alphabet.count))]
            }
            // when canonicalised twice
            guard let once = try? CanonicalURL.canonicalize(input) else { continue }
            let twice = try? CanonicalURL.canonicalize(once)
            // then the second pass changes nothing and the output is printable ASCII
            if twice != once || !once.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) { failures.append(input) }
        }
        #expect(failures.isEmpty, "not idempotent: \(failures.prefix(5))")
    }

    @Test("spellings of one page give one canonical form")
    func spellingsJoin() throws {
        // given the same page written five ways
        let spellings = [
            "http://www.example.com/a/b.html",
            "HTTP://WWW.EXAMPLE.COM/a/b.html#section-2",
            "www.example.com./a/./c/../b.html",
            "http://www.example.com:80//a//b.html",
            "http://%77ww.example.com/%61/b%2Ehtml",
        ]
        // when each is canonicalised
        let forms = Set(try spellings.map { s throws(URLCanonicalizationError) in try CanonicalURL.canonicalize(s) })
        // then they agree
        #expect(forms == ["http://www.example.com/a/b.html"])
    }

    @Test(
        "inputs that are not web URLs are refused with a reason",
        arguments: [
            ("", URLCanonicalizationError.empty),
            ("   \t ", .empty),
            ("#ref", .empty),
            (":", .missingHost),
            ("/blah", .missingHost),
            ("/blah#ref", .missingHost),
            ("?query#ref", .missingHost),
            ("/blah;param", .missingHost),
            ("http://#ref", .missingHost),
            ("http://?query#ref", .missingHost),
            ("http://.../", .missingHost),
            ("http://user@/", .missingHost),
            ("http://:80/", .missingHost),
            ("javascript:alert(document.cookie)", .unsupportedScheme("javascript")),
            ("JavaScript:alert(1)", .unsupportedScheme("javascript")),
            (" java\tscr\nipt:alert(1)", .unsupportedScheme("javascript")),
            ("data:text/html;base64,PHNjcmlwdD4=", .unsupportedScheme("data")),
            ("mailto:someone@example.com", .unsupportedScheme("mailto")),
            ("file:///etc/passwd", .unsupportedScheme("file")),
            ("gopher://example.com/", .unsupportedScheme("gopher")),
            ("magnet:?xt=urn:btih:abc", .unsupportedScheme("magnet")),
            ("http://example.com:xx/", .invalidPort("xx")),
            ("http://example.com:65536/", .invalidPort("65536")),
            ("http://example.com:-1/", .invalidPort("-1")),
            ("www.example.com:xxyy/foo.html:80", .invalidPort("xxyy")),
            ("http://[1:2:3]/", .invalidIPv6Address),
            ("http://[::1/", .invalidIPv6Address),
            ("http://[fe80::1%25eth0]/", .invalidIPv6Address),
            ("http://[1::2::3]/", .invalidIPv6Address),
            ("http://[::1.2.3.256]/", .invalidIPv6Address),
            ("http://[::1]x/", .invalidPort("x")),
            ("not a url at all", .invalidHostCharacter("a space")),
            ("http://exa mple.com/path", .invalidHostCharacter("a space")),
        ] as [(String, URLCanonicalizationError)]
    )
    func refused(_ input: String, _ expected: URLCanonicalizationError) {
        // given a text that is not a fetchable web URL, when canonicalised, then the specific error
        #expect(throws: expected) { try CanonicalURL.canonicalize(input) }
    }

    @Test("very long inputs and hosts are refused, long paths are fine")
    func lengthLimits() throws {
        // given a path just under the input limit, an input over it, and a host over 255 bytes
        let longPath = "http://example.com/" + String(repeating: "a", count: CanonicalURL.maxInputLength - 19)
        let tooLong = longPath + "b"
        let longHost = "http://" + String(repeating: "a.", count: 128) + "com/"
        // when / then
        #expect(try CanonicalURL.canonicalize(longPath).utf8.count == CanonicalURL.maxInputLength)
        #expect(throws: URLCanonicalizationError.tooLong(length: CanonicalURL.maxInputLength + 1, limit: 16_384)) {
            try CanonicalURL.canonicalize(tooLong)
        }
        #expect(throws: URLCanonicalizationError.hostTooLong(length: 259, limit: 255)) {
            try CanonicalURL.canonicalize(longHost)
        }
    }

    @Test("deeply nested escapes unescape in linear time")
    func nestedEscapes() throws {
        // given "%25" followed by 5,000 "25"s: 5,001 rounds of unescaping if done one pass at a time
        let input = "http://host/%25" + String(repeating: "25", count: 5_000) + "41"
        // when / then: it decodes to "%41" → "A" (and finishes at once)
        #expect(try CanonicalURL.canonicalize(input) == "http://host/A")
    }

    @Test("error messages name the problem, not the whole input")
    func errorMessages() {
        // given errors from hostile inputs
        let scheme = URLCanonicalizationError.unsupportedScheme("javascript")
        let long = URLCanonicalizationError.tooLong(length: 20_000, limit: 16_384)
        // then the descriptions are short and clear
        #expect(scheme.description == "unsupported scheme \"javascript\" (only http, https, ftp, ws and wss)")
        #expect(long.description == "input is 20000 bytes long, the limit is 16384")
        #expect(throws: URLCanonicalizationError.unsupportedScheme("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa…")) {
            try CanonicalURL.canonicalize(String(repeating: "a", count: 100) + ":x")
        }
    }

    @Test("host(of:) reads the host back from a canonical URL")
    func hostOfCanonical() throws {
        #expect(
            CanonicalURL.host(of: try CanonicalURL.canonicalize("HTTP://User@WWW.Example.com:81/x?y"))
                == "www.example.com")
        #expect(CanonicalURL.host(of: "http://[2001:db8::1]/") == "[2001:db8::1]")
        #expect(CanonicalURL.host(of: "https://host?q") == "host")
        #expect(CanonicalURL.host(of: "not a url") == nil)
        #expect(CanonicalURL.host(of: "http:///x") == nil)
    }
}

@Suite("Safe Browsing lookup expressions")
struct LookupExpressionTests {
    @Test("the published example with a query")
    func publishedQuery() throws {
        // given / when
        let expressions = try CanonicalURL.lookupExpressions("http://a.b.c/1/2.html?param=1")
        // then: the eight expressions of the published example, in its order
        #expect(
            expressions == [
                "a.b.c/1/2.html?param=1", "a.b.c/1/2.html", "a.b.c/", "a.b.c/1/",
                "b.c/1/2.html?param=1", "b.c/1/2.html", "b.c/", "b.c/1/",
            ])
    }

    @Test("the published example with seven host components keeps the exact host and the last five")
    func publishedLongHost() throws {
        let expressions = try CanonicalURL.lookupExpressions("http://a.b.c.d.e.f.g/1.html")
        #expect(
            expressions == [
                "a.b.c.d.e.f.g/1.html", "a.b.c.d.e.f.g/",
                "c.d.e.f.g/1.html", "c.d.e.f.g/", "d.e.f.g/1.html", "d.e.f.g/",
                "e.f.g/1.html", "e.f.g/", "f.g/1.html", "f.g/",
            ])
    }

    @Test("the published example with an IP address tries no host suffixes")
    func publishedIPAddress() throws {
        #expect(try CanonicalURL.lookupExpressions("http://1.2.3.4/1/") == ["1.2.3.4/1/", "1.2.3.4/"])
        #expect(
            try CanonicalURL.lookupExpressions("http://[2001:470:1:18::114]/a/b")
                == ["[2001:470:1:18::114]/a/b", "[2001:470:1:18::114]/", "[2001:470:1:18::114]/a/"])
    }

    @Test("paths stop at the root plus three components; at most 5 × 6 expressions")
    func limits() throws {
        // given a deep path with a query on a deep host
        let expressions = try CanonicalURL.lookupExpressions("http://a.b.c.d.e.f.g.h/1/2/3/4/5/6.html?x=1&y=2")
        // then 5 hosts × 6 paths, the root and three directory prefixes only
        #expect(expressions.count == 30)
        #expect(
            Array(expressions.prefix(6)) == [
                "a.b.c.d.e.f.g.h/1/2/3/4/5/6.html?x=1&y=2", "a.b.c.d.e.f.g.h/1/2/3/4/5/6.html",
                "a.b.c.d.e.f.g.h/", "a.b.c.d.e.f.g.h/1/", "a.b.c.d.e.f.g.h/1/2/", "a.b.c.d.e.f.g.h/1/2/3/",
            ])
        #expect(expressions.last == "g.h/1/2/3/")
        #expect(Set(expressions).count == expressions.count)
    }

    @Test("single-label hosts, trailing slashes and empty queries add no duplicates")
    func noDuplicates() throws {
        #expect(try CanonicalURL.lookupExpressions("http://b/") == ["b/"])
        #expect(try CanonicalURL.lookupExpressions("http://a.b/?") == ["a.b/"])
        #expect(try CanonicalURL.lookupExpressions("http://a.b/x/y/") == ["a.b/x/y/", "a.b/", "a.b/x/"])
    }

    @Test("expressions are computed on the canonical form")
    func canonicalFirst() throws {
        #expect(
            try CanonicalURL.lookupExpressions("HTTP://WWW.Example.COM.:80/A/../b%2Fc#x")
                == [
                    "www.example.com/b/c", "www.example.com/", "www.example.com/b/", "example.com/b/c", "example.com/",
                    "example.com/b/",
                ])
        #expect(throws: URLCanonicalizationError.unsupportedScheme("javascript")) {
            try CanonicalURL.lookupExpressions("javascript:void(0)")
        }
    }
}

extension LookupExpressionTests {
    @Test("the allocation-free byte walk gives the expressions in order, and nothing for a refused URL")
    func forEachWalk() throws {
        // given a URL with an IPv6 host and a query, and one with a refused scheme
        var walked: [String] = []
        var calls = 0
        // when both are walked
        try CanonicalURL.forEachLookupExpression("https://[::1]/a/b?c#d") {
            walked.append(String(decoding: $0, as: UTF8.self))
        }
        #expect(throws: URLCanonicalizationError.unsupportedScheme("data")) {
            try CanonicalURL.forEachLookupExpression("data:text/plain,x") { _ in calls += 1 }
        }
        // then the first gives its four expressions, the second none
        #expect(walked == ["[::1]/a/b?c", "[::1]/a/b", "[::1]/", "[::1]/a/"])
        #expect(calls == 0)
    }
}

@Suite("Punycode (RFC 3492)")
struct PunycodeTests {
    @Test("RFC 3492 section 7.1 samples and common labels")
    func samples() {
        // (A) Arabic (Egyptian)
        let arabic = String(
            String.UnicodeScalarView(
                [
                    0x0644, 0x064A, 0x0647, 0x0645, 0x0627, 0x0628, 0x062A, 0x0643, 0x0644, 0x0645, 0x0648, 0x0634,
                    0x0639,
                    0x0631, 0x0628, 0x064A, 0x061F,
                ].compactMap(Unicode.Scalar.init)))
        #expect(Punycode.encode(arabic) == "egbpdaj6bu4bxfgehfvwxn")
        // (B) Chinese (simplified)
        let chinese = String(
            String.UnicodeScalarView(
                [
                    0x4ED6, 0x4EEC, 0x4E3A, 0x4EC0, 0x4E48, 0x4E0D, 0x8BF4, 0x4E2D, 0x6587,
                ].compactMap(Unicode.Scalar.init)))
        #expect(Punycode.encode(chinese) == "ihqwcrb4cv8a8dqg056pqjye")
        // (L) mixed ASCII and Japanese, case kept
        let mixed =
            "3" + String(String.UnicodeScalarView([0x5E74].compactMap(Unicode.Scalar.init))) + "B"
            + String(
                String.UnicodeScalarView([0x7D44, 0x91D1, 0x516B, 0x5148, 0x751F].compactMap(Unicode.Scalar.init)))
        #expect(Punycode.encode(mixed) == "3B-ww4c5e180e575a65lsy2b")
        #expect(Punycode.encode("bücher") == "bcher-kva")
        #expect(Punycode.encode("münchen") == "mnchen-3ya")
        #expect(Punycode.encode("abc") == "abc-")
    }
}

@Suite("Newsgroups and P2P identifiers")
struct ReportTargetTests {
    @Test(
        "newsgroup names normalise to the lowercase dotted name",
        arguments: [
            ("alt.example", "alt.example"),
            ("news:alt.Example", "alt.example"),
            ("  NEWS:Alt.Binaries.Test  ", "alt.binaries.test"),
            ("nntp://news.example.net/alt.example/1234", "alt.example"),
            ("news://news.example.net/comp.lang.c++", "comp.lang.c++"),
            ("de.alt.fan_club-x", "de.alt.fan_club-x"),
        ]
    )
    func newsgroups(_ input: String, _ expected: String) throws {
        #expect(try Newsgroup.normalize(input) == expected)
        #expect(try ReportTarget(newsgroup: input).canonicalKey == "news:" + expected)
    }

    @Test(
        "bad newsgroup names are refused",
        arguments: [
            "", "alt..example", ".alt", "alt.", "alt.exa mple", "alt.ex*", "alt.123", "news:<abc@host>",
            "news:abc@host", "nntp://server", "alt.€",
        ]
    )
    func badNewsgroups(_ input: String) {
        #expect {
            try Newsgroup.normalize(input)
        } throws: { error in
            guard case .invalidNewsgroup = error as? URLCanonicalizationError else { return false }
            return true
        }
    }

    @Test("BitTorrent info-hashes: hex and base-32, bare, as URN and in magnet links, agree")
    func bitTorrent() throws {
        // given one info-hash written five ways (base-32 "MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U" is the same 20 bytes)
        let hex = "6162636465666768696a6b6c6d6e6f7071727374"
        let inputs = [
            hex.uppercased(),
            "mfrggzdfmztwq2lknnwg23tpobyxe43u",
            "urn:btih:MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U",
            "magnet:?xt=urn:btih:\(hex.uppercased())&dn=some+name&tr=udp%3A%2F%2Ftracker.example%3A80",
            "magnet:?dn=x&xt=urn%3Abtih%3AMFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U",
        ]
        // when
        let keys = try inputs.map { s throws(URLCanonicalizationError) in try ReportTarget(detecting: s).canonicalKey }
        // then
        #expect(Set(keys) == ["urn:btih:\(hex)"])
    }

    @Test("hybrid magnet links prefer the v1 hash; v2-only links give the multihash")
    func bitTorrentV2() throws {
        let v2 = "1220" + String(repeating: "ab", count: 32)
        let v1 = String(repeating: "c", count: 40)
        #expect(
            try P2PIdentifier(parsing: "magnet:?xt=urn:btmh:\(v2.uppercased())&xt=urn:btih:\(v1)")
                == .bitTorrent(infoHash: v1))
        #expect(try P2PIdentifier(parsing: "magnet:?xt=urn:btmh:\(v2)").canonicalKey == "urn:btmh:\(v2)")
        #expect(throws: URLCanonicalizationError.self) { try P2PIdentifier(parsing: "magnet:?xt=urn:btmh:1220abcd") }
    }

    @Test("ed2k links and ed2k magnet links give the lowercase MD4 and the size")
    func ed2k() throws {
        let link = "ed2k://|file|Some%20File.avi|10826029|354B15E68FB8F36D7CD88FF94116CDC1|h=ABCDEF|/"
        let magnet = "magnet:?xt=urn:ed2k:354b15e68fb8f36d7cd88ff94116cdc1&xl=10826029&dn=Some+File.avi"
        let expected = P2PIdentifier.ed2k(md4: "354b15e68fb8f36d7cd88ff94116cdc1", size: 10_826_029)
        #expect(try P2PIdentifier(parsing: link) == expected)
        #expect(try P2PIdentifier(parsing: magnet) == expected)
        #expect(expected.canonicalKey == "urn:ed2k:354b15e68fb8f36d7cd88ff94116cdc1:10826029")
    }

    @Test(
        "malformed P2P identifiers are refused with a reason",
        arguments: [
            "magnet:?dn=nothing", "magnet:?xt=urn:sha1:ABCDEF", "magnet:?xt=urn:btih:1234",
            "magnet:?xt=urn:ed2k:354b15e68fb8f36d7cd88ff94116cdc1",
            "magnet:?xt=urn:btih:\(String(repeating: "a", count: 40))&xl=big",
            "ed2k://|server|1.2.3.4|4661|/", "ed2k://|file|name|size|354b15e68fb8f36d7cd88ff94116cdc1|/",
            "ed2k://|file|name|10|xyz|/", "0123456789abcdef0123456789abcdef0123456g", "urn:isbn:0451450523",
        ]
    )
    func badP2P(_ input: String) {
        #expect {
            try P2PIdentifier(parsing: input)
        } throws: { error in
            guard case .invalidP2PIdentifier = error as? URLCanonicalizationError else { return false }
            return true
        }
    }

    @Test("detection sends each kind to its parser and keys never collide")
    func detection() throws {
        #expect(try ReportTarget(detecting: "Example.com/x#y") == .url("http://example.com/x"))
        #expect(try ReportTarget(detecting: "news:Alt.Test") == .newsgroup("alt.test"))
        #expect(
            try ReportTarget(detecting: String(repeating: "A", count: 40))
                == .p2p(.bitTorrent(infoHash: String(repeating: "a", count: 40))))
        #expect(try ReportTarget(url: "http://a.example/").canonicalKey == "http://a.example/")
        #expect(throws: URLCanonicalizationError.unsupportedScheme("javascript")) {
            try ReportTarget(detecting: "javascript:alert(1)")
        }
    }
}

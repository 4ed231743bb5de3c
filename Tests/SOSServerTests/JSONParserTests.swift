import Foundation
import Testing

@testable import SOSDomain

/// The hand-written parser of stored JSON reads every text as `JSONSerialization` does, and refuses what is not JSON.
@Suite("Stored JSON: the fast parser agrees with JSONSerialization")
struct JSONParserTests {
    static let valid = [
        #"["fever","headache"]"#, "[]", "{}", " { } ", "null", "true", "false", "0", "-0", "12", "-3.25", "1e5", "1.5E-3", "2E+2",
        "12345678901234567890", #""plain""#, #""Zoë \"quoted\" \\ \/ \b\f\n\r\t \u00e9 \u20AC \ud83d\ude00""#,
        #"{"hotel":"Sol","floor":3,"room":"12B","lat":41.38,"ok":true,"none":null}"#,
        #"{"monday":[{"start":"09:00","end":"12:00"}],"tuesday":[],"nested":{"a":{"b":[1,[2,[3]]]}}}"#,
        "[\n  1,\r\n\t2 ]", #"{"a":1,"a":2}"#, #"["日本語","😀"]"#,
    ]

    static let invalid = [
        "", " ", "[", "]", "[1,]", "[,1]", "{\"a\"}", "{\"a\":}", "{a:1}", "{\"a\":1,}", "01", "1.", ".5", "1e", "+1", "-", "tru", "nul",
        "\"unterminated", "\"bad \\x escape\"", "\"tab\tinside\"", "[1] 2", "\"\\ud83d\"", "\"\\u12\"", "NaN", "Infinity", "[1e999]",
    ]

    @Test("Valid texts: the same value as JSONSerialization gives")
    func valid() {
        for text in Self.valid {
            let fast = JSONParser.parse(text)
            #expect(fast != nil, "refused: \(text)")
            #expect(fast == JSON.parseWithFoundation(text), "\(text)")
        }
    }

    @Test("Invalid texts are refused")
    func invalid() {
        for text in Self.invalid {
            #expect(JSONParser.parse(text) == nil, "accepted: \(text)")
        }
    }

    @Test("What JSONWriter stores reads back as the value it was")
    func roundTrip() {
        let value: JSON = .object([
            "text": .string(JSONWriterTests.awkward), "list": .array([.number(1.5), .bool(false), .null, .string("")]),
            "inner": .object(["n": .number(-42)]),
        ])
        #expect(JSONParser.parse(value.text) == value)
    }
}

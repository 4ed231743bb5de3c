import Foundation

/// ISO 4217 currencies with their minor-unit exponent (JPY 0, USD 2, KWD 3).
public struct Currency: Sendable, Hashable, CustomStringConvertible {
    /// Upper-case ISO code.
    public let code: String
    public let exponent: Int

    /// Parses a code in any case; unknown codes are refused with a hint.
    public init(_ raw: String) throws {
        let code = raw.uppercased()
        guard code.count == 3, Self.twoDecimal.contains(code) || Self.zeroDecimal.contains(code) || Self.threeDecimal.contains(code) else {
            throw DomainError.invalid("'currency' must be an ISO 4217 code such as usd, eur, jpy or kwd (got '\(raw.prefix(10))').")
        }
        self.code = code
        self.exponent = Self.zeroDecimal.contains(code) ? 0 : Self.threeDecimal.contains(code) ? 3 : 2
    }

    public var description: String { self.code }

    /// The currency of a new doctor profile's fees until the doctor sets one.
    public static let defaultFeeCurrency = try! Currency("USD")

    /// Converts a major-unit amount (e.g. 49.99) to minor units, refusing more decimals than the currency has.
    public func minorUnits(_ amount: Double, field: String = "amount") throws -> Int64 {
        guard amount.isFinite, amount > 0 else { throw DomainError.invalid("'\(field)' must be a positive number (got \(amount)).") }
        let scale = pow(10, Double(self.exponent))
        let scaled = amount * scale
        let rounded = scaled.rounded()
        guard abs(scaled - rounded) < 1e-6 * max(1, scaled) else {
            throw DomainError.invalid("'\(field)' has more decimals than \(self.code) allows (\(self.exponent)); got \(amount).")
        }
        guard rounded >= 1 else {
            throw DomainError.invalid("'\(field)' must be at least one \(self.code) minor unit (\(self.majorUnits(1))); got \(amount).")
        }
        guard rounded <= 1e12 else { throw DomainError.invalid("'\(field)' is too large.") }
        return Int64(rounded)
    }

    /// Minor units back to a major-unit number.
    public func majorUnits(_ minor: Int64) -> Double {
        Double(minor) / pow(10, Double(self.exponent))
    }

    static let zeroDecimal: Set<String> = ["BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"]
    static let threeDecimal: Set<String> = ["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"]
    static let twoDecimal: Set<String> = [
        "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN", "BMD", "BND", "BOB", "BRL", "BSD",
        "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHF", "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB",
        "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IRR", "JMD",
        "KES", "KGS", "KHR", "KPW", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU",
        "MUR", "MVR", "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "QAR",
        "RON", "RSD", "RUB", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB",
        "TJS", "TMT", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "USD", "UYU", "UZS", "VES", "WST", "XCD", "YER", "ZAR", "ZMW", "ZWL",
    ]
}

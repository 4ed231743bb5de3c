import Foundation

/// A calendar date without a time zone, `YYYY-MM-DD` (the seed's `date`).
public struct LocalDate: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    public let year: Int
    public let month: Int
    public let day: Int

    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month), (1...LocalDate.days(inMonth: month, year: year)).contains(day) else {
            return nil
        }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses exactly `YYYY-MM-DD` with a real calendar day.
    public init?(_ text: some StringProtocol) {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
              let year = Digits.value(bytes, 0..<4), let month = Digits.value(bytes, 5..<7), let day = Digits.value(bytes, 8..<10)
        else { return nil }
        self.init(year: year, month: month, day: day)
    }

    /// Parses a field, failing with a message that names it.
    public static func parse(_ text: String, field: String) throws -> LocalDate {
        guard let date = LocalDate(text) else {
            throw DomainError.invalid("'\(field)' must be a date as YYYY-MM-DD, e.g. 2026-12-24 (got '\(text.prefix(40))').")
        }
        return date
    }

    public var description: String {
        Digits.padded(self.year, 4) + "-" + Digits.padded(self.month, 2) + "-" + Digits.padded(self.day, 2)
    }

    public static func < (lhs: LocalDate, rhs: LocalDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    static func days(inMonth month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 (proleptic Gregorian), for arithmetic and weekdays.
    public var dayNumber: Int {
        let y = self.month <= 2 ? self.year - 1 : self.year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (self.month + 9) % 12
        let doy = (153 * mp + 2) / 5 + self.day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    public init(dayNumber: Int) {
        let z = dayNumber + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        self.year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        self.month = month
        self.day = day
    }

    public func adding(days: Int) -> LocalDate { LocalDate(dayNumber: self.dayNumber + days) }

    /// ISO weekday: Monday = 1 … Sunday = 7.
    public var weekday: Weekday {
        let index = ((self.dayNumber % 7) + 7 + 3) % 7  // 1970-01-01 was a Thursday
        return Weekday.allCases[index]
    }

    /// Today's date in `timeZone`.
    public static func today(in timeZone: TimeZone, now: Date) -> LocalDate {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.year, .month, .day], from: now)
        return LocalDate(year: parts.year!, month: parts.month!, day: parts.day!)!
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let date = LocalDate(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected a date as YYYY-MM-DD, e.g. 2026-12-24 (got '\(text.prefix(40))')")
        }
        self = date
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(self.description)
    }
}

/// A wall-clock time, `HH:MM:SS` (the seed's `start_time` / `end_time`).
public struct LocalTime: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    /// Seconds since midnight, 0 ..< 86400.
    public let seconds: Int

    public init?(seconds: Int) {
        guard (0..<86_400).contains(seconds) else { return nil }
        self.seconds = seconds
    }

    public init?(hour: Int, minute: Int, second: Int = 0) {
        guard (0...23).contains(hour), (0...59).contains(minute), (0...59).contains(second) else { return nil }
        self.seconds = hour * 3600 + minute * 60 + second
    }

    /// Parses exactly `HH:MM:SS`.
    public init?(_ text: some StringProtocol) {
        let bytes = Array(text.utf8)
        guard bytes.count == 8, bytes[2] == UInt8(ascii: ":"), bytes[5] == UInt8(ascii: ":"),
              let hour = Digits.value(bytes, 0..<2), let minute = Digits.value(bytes, 3..<5), let second = Digits.value(bytes, 6..<8)
        else { return nil }
        self.init(hour: hour, minute: minute, second: second)
    }

    public static func parse(_ text: String, field: String) throws -> LocalTime {
        guard let time = LocalTime(text) else {
            throw DomainError.invalid("'\(field)' must be a time as HH:MM:SS, e.g. 09:30:00 (got '\(text.prefix(40))').")
        }
        return time
    }

    public var hour: Int { self.seconds / 3600 }
    public var minute: Int { self.seconds % 3600 / 60 }
    public var second: Int { self.seconds % 60 }

    public var description: String {
        Digits.padded(self.hour, 2) + ":" + Digits.padded(self.minute, 2) + ":" + Digits.padded(self.second, 2)
    }

    public static func < (lhs: LocalTime, rhs: LocalTime) -> Bool { lhs.seconds < rhs.seconds }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let time = LocalTime(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected a time as HH:MM:SS, e.g. 09:30:00 (got '\(text.prefix(40))')")
        }
        self = time
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(self.description)
    }
}

/// Days of the week, ISO order.
public enum Weekday: String, DomainEnum {
    case monday, tuesday, wednesday, thursday, friday, saturday, sunday
}

/// Conversions between a doctor's wall clock and UTC instants.
public enum WallClock {
    /// The instant at which `time` on `date` happens in `timeZone` (for a skipped DST hour, the hour after).
    public static func instant(_ date: LocalDate, _ time: LocalTime, in timeZone: TimeZone) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let components = DateComponents(year: date.year, month: date.month, day: date.day, hour: time.hour, minute: time.minute, second: time.second)
        return calendar.date(from: components) ?? Date(timeIntervalSince1970: TimeInterval(date.dayNumber * 86_400 + time.seconds))
    }

    /// The wall-clock date and time of `instant` in `timeZone`.
    public static func local(_ instant: Date, in timeZone: TimeZone) -> (date: LocalDate, time: LocalTime) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: instant)
        return (LocalDate(year: parts.year!, month: parts.month!, day: parts.day!)!, LocalTime(hour: parts.hour!, minute: parts.minute!, second: parts.second!)!)
    }

    /// Validates an IANA time zone name.
    public static func timeZone(_ identifier: String, field: String = "time_zone") throws -> TimeZone {
        guard !identifier.isEmpty, let zone = TimeZone(identifier: identifier) else {
            throw DomainError.invalid("'\(field)' must be an IANA time zone such as Europe/Paris or America/Mexico_City (got '\(identifier.prefix(60))').")
        }
        return zone
    }
}

/// Zero-padded decimal formatting without `String(format:)` (which goes through Foundation's formatter; these
/// strings are on every response's hot path).
public enum Digits {
    /// The decimal number spelled by ASCII digits `bytes[range]`; nil if any byte is not a digit.
    public static func value(_ bytes: [UInt8], _ range: Range<Int>) -> Int? {
        var value = 0
        for index in range {
            let byte = bytes[index]
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    public static func padded(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}

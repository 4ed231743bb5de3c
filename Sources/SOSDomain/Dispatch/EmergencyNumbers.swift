import Foundation

/// The number to call in a country, and others that work there too.
public struct EmergencyNumber: Sendable, Equatable {
    public var number: String
    public var alternatives: [String]

    public init(_ number: String, _ alternatives: [String] = []) {
        self.number = number
        self.alternatives = alternatives
    }
}

/// The local emergency (ambulance) number per country, ISO 3166-1 alpha-2. The table is `protocol/sos-states.md`'s;
/// a country not in it gets 112, which GSM phones route to the local emergency service almost everywhere.
public enum EmergencyNumbers {
    public static let fallback = EmergencyNumber("112")

    static let table: [String: EmergencyNumber] = {
        var table: [String: EmergencyNumber] = [:]
        // the EU, the EEA and other countries where 112 is the one number
        for code in ["AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU", "MT", "NL",
                     "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "TR", "UA", "RS", "ME", "MK", "AL", "BA", "MD", "GE", "IN"] {
            table[code] = EmergencyNumber("112")
        }
        table["GB"] = EmergencyNumber("999", ["112"])
        table["US"] = EmergencyNumber("911")
        table["CA"] = EmergencyNumber("911")
        table["MX"] = EmergencyNumber("911")
        table["CH"] = EmergencyNumber("144", ["112"])
        table["NO"] = EmergencyNumber("113", ["112"])
        table["RU"] = EmergencyNumber("103", ["112"])
        table["AU"] = EmergencyNumber("000", ["112"])
        table["NZ"] = EmergencyNumber("111")
        table["JP"] = EmergencyNumber("119")
        table["KR"] = EmergencyNumber("119")
        table["CN"] = EmergencyNumber("120")
        table["HK"] = EmergencyNumber("999")
        table["SG"] = EmergencyNumber("995")
        table["TH"] = EmergencyNumber("1669", ["191"])
        table["ID"] = EmergencyNumber("118", ["112"])
        table["PH"] = EmergencyNumber("911")
        table["VN"] = EmergencyNumber("115")
        table["AE"] = EmergencyNumber("998", ["999"])
        table["IL"] = EmergencyNumber("101")
        table["EG"] = EmergencyNumber("123")
        table["MA"] = EmergencyNumber("150", ["112"])
        table["ZA"] = EmergencyNumber("10177", ["112"])
        table["KE"] = EmergencyNumber("999", ["112"])
        table["BR"] = EmergencyNumber("192")
        table["AR"] = EmergencyNumber("107", ["911"])
        table["CL"] = EmergencyNumber("131")
        table["PE"] = EmergencyNumber("106")
        table["CO"] = EmergencyNumber("123")
        table["CU"] = EmergencyNumber("104")
        table["DO"] = EmergencyNumber("911")
        return table
    }()

    /// The number for a country code (any case); 112 when the country is not in the table.
    public static func number(for country: String) -> EmergencyNumber {
        Self.table[country.uppercased()] ?? Self.fallback
    }
}

/// Symptoms and severities that put the emergency number first.
public enum RedFlags {
    public static let severities: Set<SOSSeverity> = [.high, .critical]
    /// Lower-case fragments; a symptom containing one is a red flag (English only for now).
    public static let fragments = [
        "chest pain", "breath", "unconscious", "faint", "bleeding", "stroke", "seizure", "convuls", "anaphyla", "allergic reaction",
        "suicid", "overdose", "poison", "paralys", "head injury", "choking",
    ]

    public static func raised(severity: SOSSeverity, symptoms: [String]) -> Bool {
        Self.severities.contains(severity) || symptoms.contains { symptom in
            let text = symptom.lowercased()
            return Self.fragments.contains { text.contains($0) }
        }
    }
}

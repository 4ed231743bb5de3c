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
///
/// Symptoms are free text in whatever language the tourist writes, so the fragments come in the languages tourists
/// most often write in here, and every language's are checked whatever `language` the request names (a German may
/// type in English). Text is compared without case or accents ("Évanoui" matches "evanoui"). A fragment is a stem
/// ("saign" for saigne, saignement; "sangra" for sangrado, sangramento, not sangria); a false alarm costs a phone
/// number shown first, a miss costs more.
public enum RedFlags {
    public static let severities: Set<SOSSeverity> = [.high, .critical]
    /// Lower-case, accent-free fragments by ISO 639-1 language; a symptom containing one is a red flag.
    public static let fragments: [String: [String]] = [
        "en": ["chest pain", "breath", "unconscious", "faint", "bleeding", "stroke", "seizure", "convuls", "anaphyla", "allergic reaction",
               "suicid", "overdose", "poison", "paralys", "head injury", "choking"],
        "fr": ["douleur thoracique", "douleur a la poitrine", "douleur dans la poitrine", "respir", "souffle", "inconscient", "evanoui",
               "saign", "hemorrag", "avc", "convuls", "epilep", "anaphyla", "suicid", "surdose", "empoisonn", "intoxication", "paralys",
               "traumatisme cranien", "coup a la tete", "etouff"],
        "de": ["brustschmerz", "schmerzen in der brust", "atemnot", "luftnot", "nicht atmen", "bewusstlos", "ohnmacht", "blutung", "blutet",
               "schlaganfall", "krampfanfall", "epilep", "anaphyla", "suizid", "selbstmord", "uberdosis", "vergift", "lahmung", "gelahmt",
               "kopfverletzung", "erstick"],
        "es": ["dolor en el pecho", "dolor de pecho", "dolor toracico", "respirar", "ahogo", "inconsciente", "desmay", "sangra", "hemorrag",
               "ictus", "derrame cerebral", "convuls", "epilep", "anafila", "suicid", "sobredosis", "envenen", "intoxicacion", "paralis",
               "golpe en la cabeza", "traumatismo craneal", "asfixi", "atragant"],
        "it": ["dolore al petto", "dolore toracico", "respir", "incosciente", "svenut", "svenim", "sanguin", "emorrag", "ictus", "convuls",
               "epilett", "anafila", "suicid", "overdose", "avvelen", "intossicazione", "paralisi", "trauma cranico", "soffoc"],
        "pt": ["dor no peito", "dor toracica", "respir", "falta de ar", "inconsciente", "desmai", "sangra", "hemorrag", "avc", "convuls",
               "epilep", "anafila", "suicid", "overdose", "envenen", "intoxicacao", "paralisi", "traumatismo craniano", "engasg", "asfixi"],
        "nl": ["pijn op de borst", "borstpijn", "ademnood", "kortademig", "benauwd", "bewusteloos", "flauwgevallen", "bloeding", "bloedt",
               "beroerte", "stuip", "epilep", "anafyla", "zelfmoord", "suicid", "overdosis", "vergiftig", "verlamd", "verlamming", "hoofdletsel",
               "stikt", "stikken"],
    ]
    private static let all = Array(Set(Self.fragments.values.joined())).sorted()

    public static func raised(severity: SOSSeverity, symptoms: [String]) -> Bool {
        Self.severities.contains(severity) || symptoms.contains { symptom in
            let text = symptom.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil).lowercased()
            return Self.all.contains { text.contains($0) }
        }
    }
}

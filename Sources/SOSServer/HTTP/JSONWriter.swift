import Foundation
import SOSDomain

/// Writes the hottest responses (appointment and doctor lists) straight into bytes, without `JSONEncoder`'s
/// intermediate tree and generic containers, which took a third of the server's CPU on those endpoints.
/// The output is byte for byte what `JSONCoding.encoder` writes (sorted keys, unescaped slashes, the same
/// number and string forms); a test compares the two on every payload type.
struct JSONWriter {
    private(set) var bytes: [UInt8] = []
    /// Set when a value has no JSON form (a non-finite number); the caller then uses `JSONEncoder`, which throws.
    private(set) var unrepresentable = false

    init(capacity: Int = 4096) {
        self.bytes.reserveCapacity(capacity)
    }

    /// Literal JSON punctuation and keys, e.g. `{"id":`.
    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { self.bytes.append(contentsOf: $0) }
    }

    mutating func string(_ text: String) {
        JSONText.appendQuoted(text, to: &self.bytes)
    }

    mutating func int(_ value: Int) {
        self.bytes.append(contentsOf: String(value).utf8)
    }

    /// Swift's shortest round-trip form, without a trailing `.0` — as `JSONEncoder` writes numbers.
    mutating func double(_ value: Double) {
        guard value.isFinite else {
            self.unrepresentable = true
            return self.raw("null")
        }
        let text = value.description
        self.bytes.append(contentsOf: text.hasSuffix(".0") ? text.utf8.dropLast(2) : text.utf8[...])
    }

    mutating func bool(_ value: Bool) {
        value ? self.raw("true") : self.raw("false")
    }

    mutating func null() {
        self.raw("null")
    }

    mutating func date(_ date: Date) {
        self.string(Timestamp.string(from: date))
    }

    mutating func optionalString(_ text: String?) {
        if let text { self.string(text) } else { self.null() }
    }

    mutating func strings(_ items: [String]) {
        self.bytes.append(0x5B)
        for (index, item) in items.enumerated() {
            if index > 0 { self.bytes.append(0x2C) }
            self.string(item)
        }
        self.bytes.append(0x5D)
    }

    mutating func array<Element>(_ items: [Element], _ write: (inout JSONWriter, Element) -> Void) {
        self.bytes.append(0x5B)
        for (index, item) in items.enumerated() {
            if index > 0 { self.bytes.append(0x2C) }
            write(&self, item)
        }
        self.bytes.append(0x5D)
    }

    /// Stored JSON (visit locations, working hours), keys sorted by their UTF-8 bytes like `.sortedKeys`.
    mutating func json(_ value: JSON) {
        switch value {
        case .null: self.null()
        case .bool(let flag): self.bool(flag)
        case .number(let number): self.double(number)
        case .string(let text): self.string(text)
        case .array(let items): self.array(items) { $0.json($1) }
        case .object(let members):
            self.bytes.append(0x7B)
            for (index, key) in members.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).enumerated() {
                if index > 0 { self.bytes.append(0x2C) }
                self.string(key)
                self.bytes.append(0x3A)
                self.json(members[key] ?? .null)
            }
            self.bytes.append(0x7D)
        }
    }
}

/// A response that writes its own JSON (see `JSONWriter`).
protocol JSONWritable {
    func write(to writer: inout JSONWriter)
}

extension JSONWritable {
    /// The JSON bytes, or nil when a value has no JSON form.
    var jsonBytes: [UInt8]? {
        var writer = JSONWriter()
        self.write(to: &writer)
        return writer.unrepresentable ? nil : writer.bytes
    }
}

// Keys below are written in sorted (UTF-8 byte) order, as `.sortedKeys` does.

extension PaginationPayload: JSONWritable {
    func write(to w: inout JSONWriter) {
        w.raw("{\"limit\":")
        w.int(self.limit)
        w.raw(",\"page\":")
        w.int(self.page)
        w.raw(",\"total\":")
        w.int(self.total)
        w.raw(",\"totalPages\":")
        w.int(self.totalPages)
        w.raw("}")
    }
}

extension PersonPayload: JSONWritable {
    func write(to w: inout JSONWriter) {
        w.raw("{\"email\":")
        w.string(self.email)
        w.raw(",\"id\":")
        w.string(self.id)
        w.raw(",\"name\":")
        w.string(self.name)
        w.raw(",\"phone\":")
        w.string(self.phone)
        w.raw(",\"profile_picture\":")
        w.string(self.profile_picture)
        w.raw("}")
    }
}

extension NestedDoctorPayload: JSONWritable {
    func write(to w: inout JSONWriter) {
        w.raw("{\"doctor_profiles\":")
        w.array(self.doctor_profiles) { w, profile in
            w.raw("{\"rating\":")
            w.double(profile.rating)
            w.raw(",\"specialisation\":")
            w.string(profile.specialisation)
            w.raw("}")
        }
        w.raw(",\"email\":")
        w.string(self.email)
        w.raw(",\"id\":")
        w.string(self.id)
        w.raw(",\"name\":")
        w.string(self.name)
        w.raw(",\"phone\":")
        w.string(self.phone)
        w.raw(",\"profile_picture\":")
        w.string(self.profile_picture)
        w.raw("}")
    }
}

extension AppointmentPayload: JSONWritable {
    func write(to w: inout JSONWriter) {
        w.raw("{\"additional_note\":")
        w.optionalString(self.additional_note.value)
        w.raw(",\"booked_by\":")
        w.optionalString(self.booked_by.value)
        w.raw(",\"cancellation_reason\":")
        w.optionalString(self.cancellation_reason.value)
        w.raw(",\"consultation_type\":")
        w.string(self.consultation_type.rawValue)
        w.raw(",\"created_at\":")
        w.date(self.created_at)
        w.raw(",\"date\":")
        w.string(self.date.description)
        if let doctor = self.doctor {
            w.raw(",\"doctor\":")
            doctor.write(to: &w)
        }
        w.raw(",\"doctor_id\":")
        w.string(self.doctor_id)
        w.raw(",\"end_time\":")
        w.string(self.end_time.description)
        w.raw(",\"fee\":")
        if let fee = self.fee.value { fee.write(to: &w) } else { w.null() }
        w.raw(",\"hold_expires_at\":")
        if let hold = self.hold_expires_at.value { w.date(hold) } else { w.null() }
        w.raw(",\"id\":")
        w.string(self.id)
        if let patient = self.patient {
            w.raw(",\"patient\":")
            patient.write(to: &w)
        }
        w.raw(",\"patient_acceptance\":")
        w.string(self.patient_acceptance.rawValue)
        w.raw(",\"start_time\":")
        w.string(self.start_time.description)
        w.raw(",\"status\":")
        w.string(self.status.rawValue)
        w.raw(",\"stream_channel_id\":")
        w.optionalString(self.stream_channel_id.value)
        w.raw(",\"symptoms\":")
        w.strings(self.symptoms)
        w.raw(",\"updated_at\":")
        w.date(self.updated_at)
        w.raw(",\"user_id\":")
        w.string(self.user_id)
        w.raw(",\"version\":")
        w.int(self.version)
        w.raw(",\"visit_location\":")
        if let location = self.visit_location.value { w.json(location) } else { w.null() }
        w.raw("}")
    }
}

extension FeePayload: JSONWritable {
    func write(to w: inout JSONWriter) {
        w.raw("{\"amount\":")
        w.double(self.amount)
        w.raw(",\"currency\":")
        w.string(self.currency)
        w.raw("}")
    }
}

extension AppointmentListPayload: JSONWritable {
    func write(to w: inout JSONWriter) {
        w.raw("{\"appointments\":")
        w.array(self.appointments) { $1.write(to: &$0) }
        w.raw(",\"pagination\":")
        self.pagination.write(to: &w)
        w.raw("}")
    }
}

extension DoctorProfilePayload: JSONWritable {
    func write(to w: inout JSONWriter) {
        w.raw("{\"address\":")
        w.optionalString(self.address.value)
        w.raw(",\"bio\":")
        w.optionalString(self.bio.value)
        w.raw(",\"currency\":")
        w.string(self.currency)
        w.raw(",\"fees\":{")
        for (index, key) in self.fees.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).enumerated() {
            if index > 0 { w.raw(",") }
            w.string(key)
            w.raw(":")
            w.double(self.fees[key] ?? 0)
        }
        w.raw("}")
        w.raw(",\"is_listed\":")
        w.bool(self.is_listed)
        w.raw(",\"rating\":")
        w.double(self.rating)
        w.raw(",\"rating_count\":")
        w.int(self.rating_count)
        w.raw(",\"specialisation\":")
        w.string(self.specialisation)
        w.raw(",\"supported_languages\":")
        if let languages = self.supported_languages.value { w.strings(languages) } else { w.null() }
        w.raw(",\"time_zone\":")
        w.string(self.time_zone)
        w.raw(",\"working_hours\":")
        if let hours = self.working_hours.value { w.json(hours) } else { w.null() }
        w.raw("}")
    }
}

extension DoctorPayload: JSONWritable {
    func write(to w: inout JSONWriter) {
        w.raw("{\"created_at\":")
        w.date(self.created_at)
        w.raw(",\"doctor_profile\":")
        self.doctor_profile.write(to: &w)
        w.raw(",\"email\":")
        w.string(self.email)
        w.raw(",\"id\":")
        w.string(self.id)
        w.raw(",\"is_status\":")
        w.string(self.is_status.rawValue)
        w.raw(",\"name\":")
        w.string(self.name)
        w.raw(",\"phone\":")
        w.string(self.phone)
        w.raw(",\"profile_picture\":")
        w.string(self.profile_picture)
        w.raw(",\"updated_at\":")
        w.date(self.updated_at)
        w.raw("}")
    }
}

extension DoctorListPayload: JSONWritable {
    func write(to w: inout JSONWriter) {
        w.raw("{\"doctors\":")
        w.array(self.doctors) { $1.write(to: &$0) }
        w.raw(",\"pagination\":")
        self.pagination.write(to: &w)
        w.raw("}")
    }
}

# cases.py - adversarial audit streams for run_audit.py: per rule, exact thresholds and one
# micro-unit / one millisecond / one counterparty short, conversions, directions, late and
# tied records, id edge cases, input encodings, and multi-pattern decoys. Each case is
# {"name", "format", "text", optional "expect" = set of (rule, account) the contract gives}.
import json

T0 = 1704067200000          # 2024-01-01T00:00:00Z
SEC, MIN, HOUR, DAY = 1000, 60_000, 3_600_000, 86_400_000


class S:
    """A stream under construction."""
    def __init__(self):
        self.lines = []
        self.n = 0

    def tx(self, ts, frm, to, amount, currency="USD", id=None, raw_ts=None, **extra):
        self.n += 1
        r = {"id": id if id is not None else f"t{self.n}", "ts": raw_ts if raw_ts is not None else ts,
             "from": frm, "to": to, "amount": amount, "currency": currency}
        r.update(extra)
        self.lines.append(json.dumps(r, ensure_ascii=False))
        return self

    def raw(self, line):
        self.n += 1
        self.lines.append(line)
        return self

    def text(self):
        return "\n".join(self.lines) + "\n"


CASES = []


def case(name, s, expect=None, note=None, fmt="ndjson", watchlist=None):
    CASES.append({"name": name, "format": fmt, "text": s if isinstance(s, str) else s.text(),
                  "expect": None if expect is None else set(expect), "note": note, "watchlist": watchlist})


def filler(s, n=0):
    return s


# ---- large_tx ----------------------------------------------------------------------------
def large_tx():
    case("lt_exact_number", S().tx(T0, "A", "B", 10000), {("large_tx", "A")})
    case("lt_exact_string", S().tx(T0, "A", "B", "10000.000000"), {("large_tx", "A")})
    case("lt_exponent_number", S().raw('{"id":"x","ts":%d,"from":"A","to":"B","amount":1e4,"currency":"USD"}' % T0),
         {("large_tx", "A")})
    case("lt_one_micro_below", S().tx(T0, "A", "B", "9999.999999"), set())
    case("lt_float_below", S().raw('{"id":"x","ts":%d,"from":"A","to":"B","amount":9999.999999,"currency":"USD"}' % T0), set())
    case("lt_7dec_below", S().tx(T0, "A", "B", "9999.9999995"), set(), note="exactly 9999.9999995 < 10000")
    case("lt_7dec_at", S().tx(T0, "A", "B", "10000.0000000"), {("large_tx", "A")})
    case("lt_7dec_rounds_down", S().tx(T0, "A", "B", "9999.9999994999"), set())
    # EUR at 1.08: 9259.259259 EUR = 9999.99999972 USD (below), 9259.25926 EUR = 10000.0000008
    case("lt_eur_just_below", S().tx(T0, "A", "B", "9259.259259", "EUR"), set())
    case("lt_eur_just_above", S().tx(T0, "A", "B", "9259.25926", "EUR"), {("large_tx", "A")})
    case("lt_btc_8dec_below", S().tx(T0, "A", "B", "0.16666666", "BTC"), set(), note="9999.9996 USD")
    case("lt_btc_8dec_above", S().tx(T0, "A", "B", "0.16666667", "XBT"), {("large_tx", "A")}, note="10000.0002 USD")
    case("lt_kzt_just_below", S().tx(T0, "A", "B", "4761904.761904", "KZT"), set(), note="9999.9999999984 USD")
    case("lt_eur_below", S().tx(T0, "A", "B", "9259.259258", "EUR"), set())
    case("lt_euro_name_ndjson", S().tx(T0, "A", "B", "9259.25926", "Euro"), {("large_tx", "A")})
    # KZT at 0.0021: 4761904.761904 KZT = 9999.9999999984 -> 10000
    case("lt_kzt", S().tx(T0, "A", "B", "4761904.761905", "KZT"), {("large_tx", "A")})
    case("lt_kzt_below", S().tx(T0, "A", "B", "4761904.761", "KZT"), set())
    case("lt_btc_alias", S().tx(T0, "A", "B", "0.166667", "BTC"), {("large_tx", "A")})
    case("lt_bitcoin_name", S().tx(T0, "A", "B", "0.166666", "Bitcoin"), set())
    case("lt_lowercase_currency_dead", S().tx(T0, "A", "B", 20000, "usd"), set())
    case("lt_unknown_currency_dead", S().tx(T0, "A", "B", 20000, "XYZ"), set())
    case("lt_negative_dead", S().tx(T0, "A", "B", -20000), set())
    case("lt_zero_dead", S().tx(T0, "A", "B", 0), set())
    case("lt_receiver_not_alerted", S().tx(T0, "A", "B", 50000), {("large_tx", "A")})
    case("lt_self_transfer", S().tx(T0, "A", "A", 50000), {("large_tx", "A")})
    case("lt_rfc3339_offset", S().tx(0, "A", "B", 10000, raw_ts="2024-01-01T05:30:00+05:30"), {("large_tx", "A")})
    case("lt_rfc3339_fraction", S().tx(0, "A", "B", 10000, raw_ts="2024-01-01T00:00:00.123456Z"), {("large_tx", "A")})
    case("lt_ts_digit_string_dead", S().tx(0, "A", "B", 10000, raw_ts="1704067200000"), set())
    case("lt_ts_float_whole", S().raw('{"id":"x","ts":1704067200000.0,"from":"A","to":"B","amount":10000,"currency":"USD"}'),
         {("large_tx", "A")})
    case("lt_ts_float_fraction_dead", S().raw('{"id":"x","ts":1704067200000.5,"from":"A","to":"B","amount":10000,"currency":"USD"}'),
         set())
    case("lt_unknown_fields", S().tx(T0, "A", "B", 10000, extra={"nested": [1, {"a": None}]}, from_bank="001"),
         {("large_tx", "A")})
    case("lt_channel_upper", S().tx(T0, "A", "B", 10000, channel="WIRE"), {("large_tx", "A")})
    case("lt_null_channel", S().tx(T0, "A", "B", 10000, channel=None), {("large_tx", "A")})
    # cooldown: 24h of event time, per (rule, account)
    s = S()
    for k in range(4):
        s.tx(T0 + k * 12 * HOUR, "A", "B", 20000)      # 0h, 12h, 24h, 36h
    case("lt_cooldown_24h", s, {("large_tx", "A")}, note="alerts at 0h and 24h (count 2)")
    s = S().tx(T0, "A", "B", 20000).tx(T0 + DAY - 1, "A", "B", 20000)
    case("lt_cooldown_minus_1ms", s, {("large_tx", "A")})


# ---- structuring -------------------------------------------------------------------------
def structuring():
    s = S()
    for k in range(3):
        s.tx(T0 + k * HOUR, "A", f"B{k}", 8500)
    case("st_three_at_band_floor", s, {("structuring", "A")})
    s = S()
    for k in range(3):
        s.tx(T0 + k * HOUR, "A", f"B{k}", "8499.999999" if k == 1 else 8500)
    case("st_one_below_band", s, set())
    s = S()
    for k in range(3):
        s.tx(T0 + k * HOUR, "A", f"B{k}", "9999.999999")
    case("st_band_top", s, {("structuring", "A")})
    s = S()
    for k in range(2):
        s.tx(T0 + k * HOUR, "A", f"B{k}", 9000)
    s.tx(T0 + 2 * HOUR, "A", "B9", 10000)
    case("st_threshold_not_in_band", s, {("large_tx", "A")})
    s = S()
    for k in range(2):
        s.tx(T0 + k * HOUR, "A", f"B{k}", 9000)
    case("st_two_only", s, set())
    s = S()
    s.tx(T0, "A", "B0", 9000).tx(T0 + HOUR, "A", "B1", 9000).tx(T0 + 2 * HOUR, "C", "A", 9000)
    case("st_mixed_directions", s, set(), note="RULES.md: same direction only")
    s = S()
    s.tx(T0, "C0", "A", 9000).tx(T0 + HOUR, "C1", "A", 9000).tx(T0 + 2 * HOUR, "C2", "A", 9000)
    case("st_receives", s, {("structuring", "A")})
    s = S()
    s.tx(T0, "A", "B0", 9000).tx(T0 + HOUR, "A", "B1", 9000).tx(T0 + 72 * HOUR, "A", "B2", 9000)
    case("st_window_edge", s, {("structuring", "A")})
    s = S()
    s.tx(T0, "A", "B0", 9000).tx(T0 + HOUR, "A", "B1", 9000).tx(T0 + 72 * HOUR + 1, "A", "B2", 9000)
    case("st_window_edge_plus_1ms", s, set())
    # EUR: 8500 USD = 7870.37037037 EUR
    s = S()
    for k in range(3):
        s.tx(T0 + k * HOUR, "A", f"B{k}", "7870.370370", "EUR")
    case("st_eur_below_band_floor", s, set(), note="7870.370370 EUR = 8499.9999996 USD: below the band")
    s = S()
    for k in range(3):
        s.tx(T0 + k * HOUR, "A", f"B{k}", "7870.370371", "EUR")
    case("st_eur_band_floor", s, {("structuring", "A")}, note="8500.00000068 USD")
    s = S()
    for k in range(3):
        s.tx(T0 + k * HOUR, "A", f"B{k}", "9259.259259", "EUR")
    case("st_eur_band_top", s, {("structuring", "A")}, note="9999.99999972 USD is still below the threshold")
    s = S()
    for k in range(3):
        s.tx(T0 + k * HOUR, "A", f"B{k}", "7870.37036", "EUR")
    case("st_eur_below_floor", s, set())
    # same counterparty three times still counts (transactions, not counterparties)
    s = S()
    for k in range(3):
        s.tx(T0 + k * HOUR, "A", "B", 9500)
    case("st_same_counterparty", s, {("structuring", "A"), ("structuring", "B")})
    # ties in ts
    s = S()
    for k in range(3):
        s.tx(T0, "A", f"B{k}", 9500)
    case("st_ties", s, {("structuring", "A")})
    # late: third in-band arrives late but within lateness, its own window has all three
    s = S()
    s.tx(T0, "A", "B0", 9000).tx(T0 + 4 * MIN, "A", "B1", 9000).tx(T0 + 2 * MIN, "A", "B2", 9000)
    case("st_late_middle", s, {("structuring", "A")})
    # late first: window of the late event misses the newer ones; the newest anchor has all
    s = S()
    s.tx(T0 + 2 * MIN, "A", "B0", 9000).tx(T0 + 4 * MIN, "A", "B1", 9000).tx(T0, "A", "B2", 9000)
    case("st_late_oldest", s, {("structuring", "A")})
    # late beyond lateness (still evaluated)
    s = S()
    s.tx(T0 + HOUR, "A", "B0", 9000).tx(T0 + 2 * HOUR, "A", "B1", 9000).tx(T0, "A", "B2", 9000)
    case("st_late_beyond_lateness", s, {("structuring", "A")})


# ---- fan_in / fan_out --------------------------------------------------------------------
def fan():
    def fan_in(senders, amount=625, step=HOUR, hub="HUB", t0=T0):
        s = S()
        for k, snd in enumerate(senders):
            s.tx(t0 + k * step, snd, hub, amount)
        return s
    names = [f"S{k}" for k in range(8)]
    case("fi_eight", fan_in(names), {("fan_in", "HUB")})
    case("fi_seven", fan_in(names[:7]), set())
    case("fi_eight_one_repeated", fan_in(names[:7] + ["S0"]), set())
    case("fi_total_short", fan_in(names, amount="624.999999"), set())
    case("fi_case_differs", fan_in(names[:7] + ["s0"]), {("fan_in", "HUB")})
    case("fi_trailing_space", fan_in(names[:7] + ["S0 "]), {("fan_in", "HUB")})
    case("fi_trailing_nul_byte", fan_in(names[:7] + ["S0\u0000"]), {("fan_in", "HUB")},
         note="U+0000 is a byte of the id: another sender")
    long = ["X" * 63 + chr(ord("a") + k) for k in range(8)]
    case("fi_64_byte_ids_differ_last", fan_in(long), {("fan_in", "HUB")})
    long7 = long[:7] + [long[0]]
    case("fi_64_byte_ids_repeat", fan_in(long7), set())
    mid = ["P" * 22 + chr(ord("a") + k) + "Q" * 10 for k in range(8)]
    case("fi_ids_differ_after_head", fan_in(mid), {("fan_in", "HUB")})
    case("fi_65_byte_id_dead", fan_in(names[:7] + ["Y" * 65]), set())
    case("fi_64_byte_hub", fan_in(names, hub="H" * 64), {("fan_in", "H" * 64)})
    utf = ["é" * 32 if k == 0 else f"S{k}" for k in range(8)]      # 64 bytes of UTF-8
    case("fi_utf8_64_bytes", fan_in(utf), {("fan_in", "HUB")})
    utf65 = ["é" * 32 + "x" if k == 0 else f"S{k}" for k in range(8)]
    case("fi_utf8_65_bytes_dead", fan_in(utf65), set())
    s = S()
    for k in range(7):
        s.tx(T0 + k * MIN, f"S{k}", "HUB", 1000)
    s.tx(T0 + 72 * HOUR, "S7", "HUB", 1000)
    case("fi_window_edge", s, {("fan_in", "HUB")})
    s = S()
    for k in range(7):
        s.tx(T0 + k * MIN, f"S{k}", "HUB", 1000)
    s.tx(T0 + 72 * HOUR + 1, "S7", "HUB", 1000)
    case("fi_window_edge_plus_1ms", s, set())
    s = S()
    for k in range(7):
        s.tx(T0 + k * MIN, f"S{k}", "HUB", 1000)
    s.tx(T0 + HOUR, "HUB", "S7", 1000)
    case("fi_out_not_sender", s, set())
    # escape: "S\u0030" is "S0": a repeat
    s = fan_in(names[:7])
    s.raw('{"id":"e","ts":%d,"from":"S\\u0030","to":"HUB","amount":625,"currency":"USD"}' % (T0 + 8 * HOUR))
    case("fi_escaped_repeat", s, set())
    # currency: 8 x 578.703704 EUR = 8 x 625.00000032 -> 625.000000 each
    case("fi_eur", fan_in(names, amount="578.703704", ), set(), note="USD amounts given; sanity")
    s = S()
    for k in range(8):
        s.tx(T0 + k * HOUR, f"S{k}", "HUB", "578.703704", "EUR")
    case("fi_eur_total", s, {("fan_in", "HUB")})
    # late 8th sender, within lateness, oldest: newest anchor window covers it
    s = S()
    for k in range(7):
        s.tx(T0 + (k + 1) * MIN, f"S{k}", "HUB", 1000)
    s.tx(T0, "S7", "HUB", 1000)
    case("fi_late_oldest", s, {("fan_in", "HUB")})
    # fan_out mirrors
    s = S()
    for k in range(8):
        s.tx(T0 + k * HOUR, "HUB", f"R{k}", 625)
    case("fo_eight", s, {("fan_out", "HUB")})
    s = S()
    for k in range(8):
        s.tx(T0 + k * HOUR, "HUB", f"R{k % 7}", 625)
    case("fo_one_repeated", s, set())
    s = S()
    for k in range(8):
        s.tx(T0 + k * HOUR, "HUB", f"R{k}", "624.999999" if k == 3 else 625)
    case("fo_total_short", s, set())
    # late anchors: the window of a newer event (not the newest) is the one that completes
    s = S()
    for k in range(7):
        s.tx(T0 + k * MIN, f"S{k}", "HUB", 1000)     # 0..6 min
    s.tx(T0 + 72 * HOUR + 3 * MIN, "Z", "HUB", 1)       # newest, its window starts at 3 min
    s.tx(T0 + 72 * HOUR + 2 * MIN, "S7", "HUB", 1000)   # late 1 min: its window starts at 2 min (S0,S1 out)
    case("fi_late_window_gap", s, set(), note="only 5..7 senders fit in each window: silent either way")


# ---- pass_through ------------------------------------------------------------------------
def pass_through():
    case("pt_exact", S().tx(T0, "X", "A", 5000).tx(T0 + HOUR, "A", "Y", 4000), {("pass_through", "A")})
    case("pt_out_short", S().tx(T0, "X", "A", 5000).tx(T0 + HOUR, "A", "Y", "3999.999999"), set())
    case("pt_in_short", S().tx(T0, "X", "A", "4999.999999").tx(T0 + HOUR, "A", "Y", "4999.999999"), set())
    case("pt_out_before_in", S().tx(T0, "A", "Y", 5000).tx(T0 + HOUR, "X", "A", 5000), set())
    case("pt_same_ts_out_first", S().tx(T0, "A", "Y", 5000).tx(T0, "X", "A", 5000), set())
    case("pt_same_ts_in_first", S().tx(T0, "X", "A", 5000).tx(T0, "A", "Y", 5000), {("pass_through", "A")})
    case("pt_window_edge", S().tx(T0, "X", "A", 5000).tx(T0 + 48 * HOUR, "A", "Y", 4000), {("pass_through", "A")})
    case("pt_window_plus_1ms", S().tx(T0, "X", "A", 5000).tx(T0 + 48 * HOUR + 1, "A", "Y", 4000), set())
    case("pt_two_outs", S().tx(T0, "X", "A", 5000).tx(T0 + HOUR, "A", "Y", 2000).tx(T0 + 2 * HOUR, "A", "Z", 2000),
         {("pass_through", "A")})
    case("pt_outs_straddle", S().tx(T0 + HOUR, "A", "Y", 3000).tx(T0 + 2 * HOUR, "X", "A", 5000)
         .tx(T0 + 3 * HOUR, "A", "Z", 1000), set())
    case("pt_two_outs_one_late_window", S().tx(T0, "X", "A", 5000).tx(T0 + HOUR, "A", "Y", 2000)
         .tx(T0 + 48 * HOUR + 1, "A", "Z", 2000), set())
    # currency: in 5000 USD, out 3703.703704 EUR = 4000.00000032 -> 4000
    case("pt_eur_out", S().tx(T0, "X", "A", 5000).tx(T0 + HOUR, "A", "Y", "3703.703704", "EUR"), {("pass_through", "A")})
    case("pt_eur_out_short", S().tx(T0, "X", "A", 5000).tx(T0 + HOUR, "A", "Y", "3703.7037", "EUR"), set())
    # late in (within lateness) after the out: in at T0, out at T0+2min arrives first
    case("pt_late_in", S().tx(T0 + 2 * MIN, "A", "Y", 5000).tx(T0, "X", "A", 5000), {("pass_through", "A")})
    # self transfer in and out
    case("pt_self_transfer", S().tx(T0, "A", "A", 6000), set(), note="one tx is both in and out")
    # large in, small ins in between
    s = S().tx(T0, "X", "A", 10000).tx(T0 + MIN, "X2", "A", 6000).tx(T0 + 2 * MIN, "A", "Y", 4800)
    case("pt_second_receipt", s, {("pass_through", "A"), ("large_tx", "X")})


# ---- gather_scatter ----------------------------------------------------------------------
def gather_scatter():
    def gs(n_in, n_out, amount=1000, out_amount=None, interleave=None, t0=T0, step=HOUR):
        s = S()
        t = t0
        for k in range(n_in):
            s.tx(t, f"S{k}", "HUB", amount); t += step
        for k in range(n_out):
            s.tx(t, "HUB", f"R{k}", out_amount or amount); t += step
        return s
    case("gs_five_five", gs(5, 5), {("gather_scatter", "HUB")})
    case("gs_five_four", gs(5, 4), set())
    case("gs_four_five", gs(4, 5), set())
    case("gs_scatter_short", gs(5, 5, out_amount="999.999999"), set())
    case("gs_gather_short", gs(5, 5, amount="999.999999", out_amount=1000), set())
    s = S()
    for k in range(4):
        s.tx(T0 + k * HOUR, f"S{k}", "HUB", 1000)
    s.tx(T0 + 4 * HOUR, "HUB", "R0", 1000)
    s.tx(T0 + 5 * HOUR, "S4", "HUB", 1000)
    for k in range(1, 5):
        s.tx(T0 + (5 + k) * HOUR, "HUB", f"R{k}", 1000)
    case("gs_out_before_gather", s, set(), note="only 4 receivers after the 5th sender")
    s = S()
    for k in range(5):
        s.tx(T0 + k * MIN, f"S{k}", "HUB", 1000)
    for k in range(4):
        s.tx(T0 + HOUR + k * MIN, "HUB", f"R{k}", 1000)
    s.tx(T0 + 72 * HOUR, "HUB", "R4", 1000)
    case("gs_window_edge", s, {("gather_scatter", "HUB")})
    s = S()
    for k in range(5):
        s.tx(T0 + k * MIN, f"S{k}", "HUB", 1000)
    for k in range(4):
        s.tx(T0 + HOUR + k * MIN, "HUB", f"R{k}", 1000)
    s.tx(T0 + 72 * HOUR + 1, "HUB", "R4", 1000)
    case("gs_window_plus_1ms", s, set())
    s = S()
    for k in range(5):
        s.tx(T0 + k * MIN, f"S{k % 4}", "HUB", 1000)
    for k in range(5):
        s.tx(T0 + HOUR + k * MIN, "HUB", f"R{k}", 1000)
    case("gs_repeated_sender", s, set())


# ---- velocity ------------------------------------------------------------------------------
def velocity():
    def hist(s, acct, start, n, step):
        for k in range(n):
            s.tx(start + k * step, acct, f"H{k}", 1)

    # first at T0, burst of 20 ending at T0 + 8d: baseline 1 event
    s = S()
    s.tx(T0, "A", "Z", 1)
    for k in range(20):
        s.tx(T0 + 8 * DAY - HOUR + 1 + k * MIN, "A", f"B{k}", 1)
    case("ve_burst", s, {("velocity", "A")})
    s = S()
    s.tx(T0, "A", "Z", 1)
    for k in range(19):
        s.tx(T0 + 8 * DAY - HOUR + 1 + k * MIN, "A", f"B{k}", 1)
    case("ve_19", s, set())
    s = S()
    s.tx(T0, "A", "Z", 1)
    for k in range(20):
        s.tx(T0 + 7 * DAY - HOUR + k * MIN, "A", f"B{k}", 1)   # last at 7d - 41 min: too little history
    case("ve_too_little_history", s, set())
    # exact factor boundary: s = 167h, b = 334 -> n*s == 10*b*W at n = 20
    for b, n, name in ((334, 20, "ve_factor_equal"), (333, 20, "ve_factor_above"), (334, 21, "ve_factor_n21")):
        s = S()
        step = (167 * HOUR) // b
        for k in range(b):
            s.tx(T0 + k * step, "A", f"H{k}", 1)
        t = T0 + 7 * DAY
        for k in range(n):
            s.tx(t - (n - 1 - k) * (HOUR // 60 // 2) , "A", f"B{k}", 1)
        case(name, s, None, note=f"b={b} in [T0, T0+167h), n={n} burst ending at T0+7d")
    # 20 tied events
    s = S()
    s.tx(T0, "A", "Z", 1)
    for k in range(20):
        s.tx(T0 + 10 * DAY, "A", f"B{k}", 1)
    case("ve_ties", s, {("velocity", "A")})
    # window edges: 19 at [t-1h] .. and the 20th at t
    s = S()
    s.tx(T0, "A", "Z", 1)
    t = T0 + 10 * DAY
    s.tx(t - HOUR, "A", "B0", 1)
    for k in range(1, 20):
        s.tx(t - HOUR + k * MIN, "A", f"B{k}", 1)
    case("ve_window_edge_inclusive", s, {("velocity", "A")})
    s = S()
    s.tx(T0, "A", "Z", 1)
    s.tx(t - HOUR - 1, "A", "B0", 1)
    for k in range(1, 20):
        s.tx(t - HOUR + k * MIN, "A", f"B{k}", 1)
    s.tx(t, "A", "B20", 1)  # 20 in window ending at t (B1..B20): wait, B20 at t and B19 at t-41m
    case("ve_window_edge_minus_1ms", s, None)
    # old account (> baseline + window): far edge of the baseline inside a histogram bucket
    s = S()
    for k in range(40):
        s.tx(T0 + k * DAY, "A", f"H{k}", 1)
    t = T0 + 60 * DAY
    for k in range(20):
        s.tx(t - 50 * MIN + k * MIN, "A", f"B{k}", 1)
    case("ve_old_account", s, None)
    # both directions count
    s = S()
    s.tx(T0, "A", "Z", 1)
    for k in range(20):
        if k % 2:
            s.tx(T0 + 9 * DAY + k * MIN, "A", f"B{k}", 1)
        else:
            s.tx(T0 + 9 * DAY + k * MIN, f"B{k}", "A", 1)
    case("ve_both_directions", s, {("velocity", "A")})


# ---- dormant ---------------------------------------------------------------------------------
def dormant():
    case("do_exact", S().tx(T0, "A", "Z", 1).tx(T0 + 180 * DAY, "A", "Y", 5000), {("dormant", "A")})
    case("do_minus_1ms", S().tx(T0, "A", "Z", 1).tx(T0 + 180 * DAY - 1, "A", "Y", 5000), set())
    case("do_amount_short", S().tx(T0, "A", "Z", 1).tx(T0 + 180 * DAY, "A", "Y", "4999.999999"), set())
    case("do_receives", S().tx(T0, "A", "Z", 1).tx(T0 + 200 * DAY, "Y", "A", 5000), {("dormant", "A")})
    case("do_first_activity", S().tx(T0, "A", "Z", 1).tx(T0 + 200 * DAY, "A", "NEW", 6000), {("dormant", "A")})
    case("do_kzt", S().tx(T0, "A", "Z", 1).tx(T0 + 200 * DAY, "A", "Y", "2380952.380953", "KZT"), {("dormant", "A")})
    # late record within lateness after a small newer one: the late record is the waking move
    s = S().tx(T0, "A", "Z", 1).tx(T0 + 200 * DAY, "A", "Y", 1).tx(T0 + 200 * DAY - 2 * MIN, "A", "Y", 6000)
    case("do_late_waking", s, {("dormant", "A")},
         note="A silent 200d-2min, then moves 6000 (arrives 2 min late, after a 1 USD tx)")
    # a late record inside the gap breaks the dormancy of the newer one (only if in time)
    s = S().tx(T0, "A", "Z", 1).tx(T0 + 200 * DAY, "A", "Y", 6000)
    case("do_plain", s, {("dormant", "A")})


# ---- high_risk_country / watchlist ---------------------------------------------------------------
def hrc_watch():
    case("hrc_to", S().tx(T0, "A", "B", 1000, to_country="KP"), {("high_risk_country", "A")})
    case("hrc_from", S().tx(T0, "A", "B", 1000, from_country="IR"), {("high_risk_country", "B")})
    case("hrc_lower", S().tx(T0, "A", "B", 1000, to_country="mm"), {("high_risk_country", "A")})
    case("hrc_short", S().tx(T0, "A", "B", "999.999999", to_country="KP"), set())
    case("hrc_both", S().tx(T0, "A", "B", 1000, from_country="KP", to_country="IR"),
         {("high_risk_country", "A"), ("high_risk_country", "B")})
    case("hrc_not_listed", S().tx(T0, "A", "B", 5000, from_country="US", to_country="DE"), set())
    case("hrc_eur", S().tx(T0, "A", "B", "925.925926", "EUR", to_country="KP"), {("high_risk_country", "A")})
    case("hrc_empty_country", S().tx(T0, "A", "B", 20000, to_country=""), None,
         note="empty optional country: vigild dead-letters the whole record")
    wl = "ACC1  # note\nACC#1\n  ACC2\t\n# ACC3\n"
    case("wl_basic", S().tx(T0, "ACC1", "X", 1).tx(T0, "Y", "ACC#1", 1).tx(T0, "ACC2", "ACC3", 1)
         .tx(T0, "acc1", "ACC1 ", 1),
         {("watchlist", "ACC1"), ("watchlist", "ACC#1"), ("watchlist", "ACC2")}, watchlist=wl)


# ---- cycle -----------------------------------------------------------------------------------
def cycle():
    def ring(nodes, times, amounts=None):
        s = S()
        for k in range(len(nodes)):
            s.tx(times[k], nodes[k], nodes[(k + 1) % len(nodes)], (amounts or [1000] * len(nodes))[k])
        return s
    case("cy_three", ring("ABC", [T0, T0 + HOUR, T0 + 2 * HOUR]), {("cycle", "A")})
    case("cy_two", ring("AB", [T0, T0 + HOUR]), {("cycle", "A")})
    case("cy_hop_short", ring("ABC", [T0, T0 + HOUR, T0 + 2 * HOUR], [1000, "999.999999", 1000]), set())
    case("cy_not_time_ordered", S().tx(T0 + HOUR, "A", "B", 1000).tx(T0, "B", "C", 1000).tx(T0 + 2 * HOUR, "C", "A", 1000),
         set(), note="B->C before A->B, input not time ordered (B->C is 1h late: beyond lateness)")
    case("cy_tie", ring("ABC", [T0, T0, T0 + HOUR]), set())
    case("cy_window_edge", ring("ABC", [T0, T0 + HOUR, T0 + 7 * DAY]), {("cycle", "A")})
    case("cy_window_plus_1ms", ring("ABC", [T0, T0 + HOUR, T0 + 7 * DAY + 1]), set())
    case("cy_six_hops", ring("ABCDEF", [T0 + k * HOUR for k in range(6)]), {("cycle", "A")})
    case("cy_seven_hops", ring("ABCDEFG", [T0 + k * HOUR for k in range(7)]), set())
    case("cy_eur_hop", ring("ABC", [T0, T0 + HOUR, T0 + 2 * HOUR], [1000, "925.925926", 1000]).text().replace(
        '"amount": "925.925926", "currency": "USD"', '"amount": "925.925926", "currency": "EUR"'), {("cycle", "A")})
    # late middle hop within lateness
    s = S().tx(T0, "A", "B", 1000).tx(T0 + 10 * MIN, "C", "A", 1000).tx(T0 + 8 * MIN, "B", "C", 1000)
    case("cy_late_middle", s, {("cycle", "A")})
    # late first hop within lateness
    s = S().tx(T0 + 5 * MIN, "B", "C", 1000).tx(T0 + 6 * MIN, "C", "A", 1000).tx(T0 + 2 * MIN, "A", "B", 1000)
    case("cy_late_first", s, {("cycle", "A")})
    # ring through a repeated account: A->B->C->B->A
    s = S().tx(T0, "A", "B", 1000).tx(T0 + 1 * HOUR, "B", "C", 1000).tx(T0 + 2 * HOUR, "C", "B", 1000).tx(T0 + 3 * HOUR, "B", "A", 1000)
    case("cy_repeat_inside", s, {("cycle", "A"), ("cycle", "B")})
    # decoy: same accounts but the return leg is older than the opening
    s = S().tx(T0, "C", "A", 1000).tx(T0 + HOUR, "A", "B", 1000).tx(T0 + 2 * HOUR, "B", "C", 1000)
    case("cy_return_first", s, {("cycle", "C")}, note="C->A, A->B, B->C is a ring about C")
    s = S().tx(T0 + 2 * HOUR, "C", "A", 1000).tx(T0 + HOUR, "A", "B", 1000).tx(T0, "B", "C", 1000)
    case("cy_reversed_times", s, set(), note="each hop older than the one before: not time ordered")
    # ids that differ by case do not close a ring
    s = S().tx(T0, "A", "B", 1000).tx(T0 + HOUR, "B", "C", 1000).tx(T0 + 2 * HOUR, "C", "a", 1000)
    case("cy_case_differs", s, set())
    # AMLworld-style: 2-hop ring by csv
    csv = ("Timestamp,From Bank,Account,To Bank,Account,Amount Received,Receiving Currency,Amount Paid,Payment Currency,Payment Format,Is Laundering\n"
           "2022/09/01 00:20,010,8000EBD30,0020,8000EBD31,1000.00,US Dollar,1000.00,US Dollar,Wire,0\n"
           "2022/09/01 00:21,020,8000EBD31,10,8000EBD30,1000.00,US Dollar,1000.00,US Dollar,Wire,1\n")
    case("cy_csv_bank_zeros", csv, {("cycle", "10:8000EBD30")}, fmt="amlworld-csv")


# ---- scatter_gather ------------------------------------------------------------------------------
def scatter_gather():
    def sg(n=3, sinks=None, legs_ts=None, fwd_ts=None, leg_amt=1000, fwd_amt=1000):
        s = S()
        legs_ts = legs_ts or [T0 + k * HOUR for k in range(n)]
        fwd_ts = fwd_ts or [T0 + (n + k) * HOUR for k in range(n)]
        order = sorted([(legs_ts[k], 0, k) for k in range(n)] + [(fwd_ts[k], 1, k) for k in range(n)])
        for ts, kind, k in order:
            if kind == 0:
                s.tx(ts, "O", f"M{k}", leg_amt if not isinstance(leg_amt, list) else leg_amt[k])
            else:
                s.tx(ts, f"M{k}", (sinks or ["S"] * n)[k], fwd_amt)
        return s
    case("sg_three", sg(), {("scatter_gather", "O"), ("scatter_gather", "S")})
    case("sg_two", sg(2), set())
    case("sg_different_sinks", sg(3, sinks=["S", "S", "T"]), set())
    case("sg_forward_before_leg", sg(3, legs_ts=[T0, T0 + HOUR, T0 + 5 * HOUR], fwd_ts=[T0 + 3 * HOUR, T0 + 4 * HOUR, T0 + 4 * HOUR + 1]),
         set())
    case("sg_forward_same_ts_as_leg", sg(3, legs_ts=[T0, T0 + HOUR, T0 + 5 * HOUR], fwd_ts=[T0 + 3 * HOUR, T0 + 4 * HOUR, T0 + 5 * HOUR]),
         set())
    case("sg_window_edge", sg(3, legs_ts=[T0, T0 + HOUR, T0 + 2 * HOUR], fwd_ts=[T0 + 3 * HOUR, T0 + 4 * HOUR, T0 + 7 * DAY]),
         {("scatter_gather", "O"), ("scatter_gather", "S")})
    case("sg_window_plus_1ms", sg(3, legs_ts=[T0, T0 + HOUR, T0 + 2 * HOUR], fwd_ts=[T0 + 3 * HOUR, T0 + 4 * HOUR, T0 + 7 * DAY + 1]),
         set())
    case("sg_leg_short", sg(3, leg_amt=[1000, "999.999999", 1000]), set())
    case("sg_fwd_short", sg(3, fwd_amt="999.999999"), set())
    # sink == origin: that's three 2-hop rings, not a scatter-gather
    s = S()
    for k in range(3):
        s.tx(T0 + k * HOUR, "O", f"M{k}", 1000)
    for k in range(3):
        s.tx(T0 + (3 + k) * HOUR, f"M{k}", "O", 1000)
    case("sg_sink_is_origin", s, {("cycle", "O")})
    # intermediary is the sink's other intermediary... one intermediary repeated
    s = S()
    s.tx(T0, "O", "M0", 1000).tx(T0 + HOUR, "O", "M1", 1000).tx(T0 + 2 * HOUR, "O", "M1", 1000)
    s.tx(T0 + 3 * HOUR, "M0", "S", 1000).tx(T0 + 4 * HOUR, "M1", "S", 1000).tx(T0 + 5 * HOUR, "M1", "S", 1000)
    case("sg_repeated_intermediary", s, set())
    # late leg (within lateness): O->M2 arrives after M2->S
    s = S()
    s.tx(T0, "O", "M0", 1000).tx(T0 + MIN, "O", "M1", 1000)
    s.tx(T0 + 3 * MIN, "M0", "S", 1000).tx(T0 + 4 * MIN, "M1", "S", 1000)
    s.tx(T0 + 6 * MIN, "M2", "S", 1000).tx(T0 + 5 * MIN, "O", "M2", 1000)
    case("sg_late_leg", s, {("scatter_gather", "O"), ("scatter_gather", "S")})
    # late forward within lateness
    s = S()
    for k in range(3):
        s.tx(T0 + k * MIN, "O", f"M{k}", 1000)
    s.tx(T0 + 5 * MIN, "M0", "S", 1000).tx(T0 + 8 * MIN, "M2", "S", 1000).tx(T0 + 6 * MIN, "M1", "S", 1000)
    case("sg_late_forward", s, {("scatter_gather", "O"), ("scatter_gather", "S")})
    # chain decoy: O -> M -> S sequential but M_k forward to each other
    s = S()
    s.tx(T0, "O", "M0", 1000).tx(T0 + HOUR, "M0", "M1", 1000).tx(T0 + 2 * HOUR, "M1", "M2", 1000).tx(T0 + 3 * HOUR, "M2", "S", 1000)
    case("sg_chain", s, set())


# ---- AMLworld CSV ----------------------------------------------------------------------------------
def csv_cases():
    H = "Timestamp,From Bank,Account,To Bank,Account,Amount Received,Receiving Currency,Amount Paid,Payment Currency,Payment Format,Is Laundering\n"
    case("csv_large_tx", H + "2022/09/01 00:20,010,8000EBD30,010,8000EBD30,3697.34,US Dollar,10000.00,US Dollar,Reinvestment,0\n",
         {("large_tx", "10:8000EBD30")}, fmt="amlworld-csv")
    case("csv_no_header", "2022/09/01 00:20,001,A1,002,B1,10000,US Dollar,10000,US Dollar,Cash,0\n",
         {("large_tx", "1:A1")}, fmt="amlworld-csv")
    case("csv_crlf", H.replace("\n", "\r\n") + "2022/09/01 00:20,001,A1,002,B1,10000,US Dollar,10000,US Dollar,Cash,0\r\n",
         {("large_tx", "1:A1")}, fmt="amlworld-csv")
    case("csv_bank_000", H + "2022/09/01 00:20,000,A1,002,B1,10000,US Dollar,10000,US Dollar,Cash,0\n",
         {("large_tx", "0:A1")}, fmt="amlworld-csv")
    case("csv_paid_not_received", H + "2022/09/01 00:20,001,A1,002,B1,20000,US Dollar,9259.259258,Euro,Wire,0\n",
         set(), fmt="amlworld-csv")
    case("csv_paid_euro", H + "2022/09/01 00:20,001,A1,002,B1,1,US Dollar,9259.25926,Euro,Wire,0\n",
         {("large_tx", "1:A1")}, fmt="amlworld-csv")
    names = ["US Dollar", "Euro", "Yuan", "Yen", "UK Pound", "Rupee", "Ruble", "Brazil Real", "Australian Dollar",
             "Canadian Dollar", "Mexican Peso", "Shekel", "Swiss Franc", "Saudi Riyal", "Bitcoin"]
    lines = "".join(f"2022/09/01 00:{k:02d},001,A{k},002,B{k},1,{n},1,{n},ACH,0\n" for k, n in enumerate(names))
    case("csv_all_names", H + lines, {("large_tx", "1:A14")}, fmt="amlworld-csv", note="1 BTC = 60000 USD")
    case("csv_iso_code", H + "2022/09/01 00:20,001,A1,002,B1,1,EUR,9259.25926,EUR,Wire,0\n",
         {("large_tx", "1:A1")}, fmt="amlworld-csv")
    case("csv_unknown_name", H + "2022/09/01 00:20,001,A1,002,B1,1,Dollar,20000,Dollar,Wire,0\n", set(), fmt="amlworld-csv")
    # fan_in across banks: same account number in different banks are different accounts
    lines = "".join(f"2022/09/01 0{k}:00,{'%03d' % (k % 2)},S,001,HUB,625,US Dollar,625,US Dollar,ACH,0\n" for k in range(8))
    case("csv_same_acct_diff_bank", H + lines, set(), fmt="amlworld-csv", note="only 2 distinct senders (0:S, 1:S)")
    lines = "".join(f"2022/09/01 0{k}:00,{k:03d},S,001,HUB,625,US Dollar,625,US Dollar,ACH,0\n" for k in range(8))
    case("csv_eight_banks", H + lines, {("fan_in", "1:HUB")}, fmt="amlworld-csv")
    lines = "".join(f"2022/09/01 0{k}:00,{k:03d},S,01,HUB,625,US Dollar,625,US Dollar,ACH,0\n" for k in range(4)) + \
            "".join(f"2022/09/01 0{k}:00,{k:03d},S,1,HUB,625,US Dollar,625,US Dollar,ACH,0\n" for k in range(4, 8))
    case("csv_hub_zero_forms", H + lines, {("fan_in", "1:HUB")}, fmt="amlworld-csv")
    case("csv_tx_id_line_number", H + "\n2022/09/01 00:20,001,A1,002,B1,1,US Dollar,20000,US Dollar,Wire,0\n",
         {("large_tx", "1:A1")}, fmt="amlworld-csv")


def late():
    # fan_in: the window ending at an intermediate event (not the newest) is the one a late
    # sender completes
    s = S()
    for k in range(6):
        s.tx(T0 + k * MIN, f"S{k}", "HUB", 1000)          # 0..5 min
    s.tx(T0 + 72 * HOUR, "S6", "HUB", 1000)               # window [0, 72h]: S0..S6
    s.tx(T0 + 72 * HOUR + 4 * MIN, "Z", "HUB", 1)          # newest: window starts at 4 min
    s.tx(T0 + 72 * HOUR - MIN, "S7", "HUB", 1000)          # late 5 min: own window [-1m, 72h-1m]: S0..S5,S7
    case("late_fi_intermediate_anchor", s, {("fan_in", "HUB")},
         note="S7 is 5 min late (= allowed_lateness); only the window ending at S6 holds 8 senders")
    s = S()
    s.tx(T0, "A", "B0", 9000)
    s.tx(T0 + 72 * HOUR, "A", "B1", 9000)
    s.tx(T0 + 72 * HOUR + 4 * MIN, "A", "B2", 100)      # newest, out of band
    s.tx(T0 + 72 * HOUR - MIN, "A", "B3", 9000)         # late: windows ending at it: T0, itself = 2
    case("late_st_newest_not_band", s, {("structuring", "A")}, note="the anchor is the newest in-band event")
    s = S()
    s.tx(T0, "X", "A", 5000)
    s.tx(T0 + 48 * HOUR, "A", "Y", 2000)                 # out at the edge of the window
    s.tx(T0 + 48 * HOUR + 4 * MIN, "A", "Y2", 1)         # newest out: its window starts after the in
    s.tx(T0 + 48 * HOUR - MIN, "A", "Y3", 2000)           # late out
    case("late_pt_intermediate_anchor", s, {("pass_through", "A")})
    s = S()
    for k in range(5):
        s.tx(T0 + k * MIN, f"S{k}", "HUB", 1000)
    for k in range(3):
        s.tx(T0 + HOUR + k * MIN, "HUB", f"R{k}", 1000)
    s.tx(T0 + 72 * HOUR, "HUB", "R3", 1000)
    s.tx(T0 + 72 * HOUR + 4 * MIN, "HUB", "R4", 1)
    s.tx(T0 + 72 * HOUR - MIN, "HUB", "R5", 1000)
    case("late_gs_intermediate_anchor", s, {("gather_scatter", "HUB")})


def late_graph():
    # scatter_gather: a late leg completes the window ending at an intermediate forward
    s = S()
    s.tx(T0, "O", "M0", 1000).tx(T0 + MIN, "O", "M1", 1000)
    s.tx(T0 + 2 * MIN, "M0", "S", 1000).tx(T0 + 3 * MIN, "M1", "S", 1000)
    s.tx(T0 + 7 * DAY, "M2", "S", 1000)
    s.tx(T0 + 7 * DAY + 4 * MIN, "M9", "S", 1000)
    s.tx(T0 + 7 * DAY - MIN, "O", "M2", 1000)
    case("late_sg_leg_intermediate", s, {("scatter_gather", "O"), ("scatter_gather", "S")})
    s = S()
    for k in range(3):
        s.tx(T0 + k * MIN, "O", f"M{k}", 1000)
    s.tx(T0 + HOUR, "M0", "S", 1000).tx(T0 + 7 * DAY, "M1", "S", 1000).tx(T0 + 7 * DAY + 4 * MIN, "M9", "S", 1000)
    s.tx(T0 + 7 * DAY - MIN, "M2", "S", 1000)
    case("late_sg_forward_intermediate", s, {("scatter_gather", "O"), ("scatter_gather", "S")})
    # cycle: a late transfer closes one ring (about y) and opens another (about o)
    s = S()
    s.tx(T0, "Y", "A", 1000).tx(T0 + HOUR, "A", "X", 1000).tx(T0 + 90 * MIN, "O", "X", 1000)
    s.tx(T0 + 2 * HOUR + 2 * MIN, "Y", "O", 1000)
    s.tx(T0 + 2 * HOUR, "X", "Y", 1000)
    case("late_cy_two_origins", s, {("cycle", "Y"), ("cycle", "O")})


def all_cases():
    if not CASES:
        for fn in (large_tx, structuring, fan, pass_through, gather_scatter, velocity, dormant, hrc_watch,
                   cycle, scatter_gather, csv_cases, late, late_graph):
            fn()
    return CASES

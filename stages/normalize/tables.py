"""Word tables for the podcast verbalizer: units, currencies, abbreviations, acronyms.

Kept as plain data so they are easy to review and extend; the verbalizer builds its
regular expressions from these keys once, at import.
"""

from __future__ import annotations

__all__ = [
    "ABBREVIATIONS",
    "BARE_CURRENCY_WORDS",
    "CLASSIFIERS",
    "COMMON_WORDS",
    "CONSONANTS",
    "CURRENCIES",
    "CURRENCY_SIGNS",
    "CURRENCY_WORDS",
    "ENGLISH_CODAS",
    "ENGLISH_ONSETS",
    "FILE_EXTENSIONS",
    "INITIALISMS",
    "MONTHS",
    "PER_UNITS",
    "RATE_UNITS",
    "SCALES",
    "TOP_LEVEL_DOMAINS",
    "UNITS",
    "WORD_ACRONYMS",
    "ZH_UNITS",
]

def _words(text: str) -> frozenset[str]:
    """The white-space separated words of ``text`` (long word lists stay readable)."""
    return frozenset(text.split())


# unit symbol → (English singular, English plural, Chinese).  Case-sensitive keys.
UNITS: dict[str, tuple[str, str, str]] = {
    "km": ("kilometer", "kilometers", "公里"),
    "cm": ("centimeter", "centimeters", "厘米"),
    "mm": ("millimeter", "millimeters", "毫米"),
    "nm": ("nanometer", "nanometers", "纳米"),
    "m": ("meter", "meters", "米"),
    "kg": ("kilogram", "kilograms", "公斤"),
    "mg": ("milligram", "milligrams", "毫克"),
    "g": ("gram", "grams", "克"),
    "lb": ("pound", "pounds", "磅"),
    "lbs": ("pound", "pounds", "磅"),
    "oz": ("ounce", "ounces", "盎司"),
    "ft": ("foot", "feet", "英尺"),
    "mi": ("mile", "miles", "英里"),
    "ml": ("milliliter", "milliliters", "毫升"),
    "mL": ("milliliter", "milliliters", "毫升"),
    "L": ("liter", "liters", "升"),
    "TB": ("terabyte", "terabytes", "T B"),
    "GB": ("gigabyte", "gigabytes", "G B"),
    "MB": ("megabyte", "megabytes", "M B"),
    "KB": ("kilobyte", "kilobytes", "K B"),
    "GHz": ("gigahertz", "gigahertz", "吉赫兹"),
    "MHz": ("megahertz", "megahertz", "兆赫兹"),
    "kHz": ("kilohertz", "kilohertz", "千赫兹"),
    "Hz": ("hertz", "hertz", "赫兹"),
    "kWh": ("kilowatt hour", "kilowatt hours", "千瓦时"),
    "kW": ("kilowatt", "kilowatts", "千瓦"),
    "MW": ("megawatt", "megawatts", "兆瓦"),
    "W": ("watt", "watts", "瓦"),
    "V": ("volt", "volts", "伏"),
    "ms": ("millisecond", "milliseconds", "毫秒"),
    "min": ("minute", "minutes", "分钟"),
    "hr": ("hour", "hours", "小时"),
    "hrs": ("hour", "hours", "小时"),
    "°C": ("degree Celsius", "degrees Celsius", "摄氏度"),
    "℃": ("degree Celsius", "degrees Celsius", "摄氏度"),
    "°F": ("degree Fahrenheit", "degrees Fahrenheit", "华氏度"),
    "°": ("degree", "degrees", "度"),
}
ZH_UNITS = {key: value[2] for key, value in UNITS.items()}
# Rate units written as one word → (unit, per): ``60 mph`` reads like ``60 mi/h``.
RATE_UNITS: dict[str, tuple[str, str]] = {"mph": ("mi", "h"), "kph": ("km", "h")}

# Scale words after a number or an amount of money: "5M", "$3.5 billion", "5万".
SCALES: dict[str, tuple[str, str]] = {
    "thousand": ("thousand", "千"),
    "million": ("million", "百万"),
    "billion": ("billion", "十亿"),
    "trillion": ("trillion", "万亿"),
    "k": ("thousand", "千"),
    "K": ("thousand", "千"),
    "M": ("million", "百万"),
    "mn": ("million", "百万"),
    "B": ("billion", "十亿"),
    "bn": ("billion", "十亿"),
    "m": ("million", "百万"),
    "万": ("ten thousand", "万"),
    "亿": ("hundred million", "亿"),
}

# currency code → (major singular, major plural, minor unit, Chinese name)
CURRENCIES: dict[str, tuple[str, str, str, str]] = {
    "USD": ("dollar", "dollars", "cents", "美元"),
    "EUR": ("euro", "euros", "cents", "欧元"),
    "GBP": ("pound", "pounds", "pence", "英镑"),
    "CNY": ("yuan", "yuan", "fen", "元"),
    "JPY": ("yen", "yen", "sen", "日元"),
    "INR": ("rupee", "rupees", "paise", "卢比"),
    "KRW": ("won", "won", "jeon", "韩元"),
}

# What may stand before an amount (``$5``, ``US$5``, ``RMB 100``) → currency code.
CURRENCY_SIGNS: dict[str, str] = {
    "$": "USD",
    "US$": "USD",
    "€": "EUR",
    "£": "GBP",
    "¥": "CNY",
    "￥": "CNY",
    "₹": "INR",
    "₩": "KRW",
    **{code: code for code in CURRENCIES},
    "RMB": "CNY",
}

# A word after an amount that names its currency → currency code.  After a sign the word
# is the same currency said twice (``¥1,250元``, ``$5 dollars``) and is read once; the
# Chinese words and the codes also make a bare amount money (``1,250元``, ``100 USD``).
# ``¥`` is both yuan and yen: a yen word after it (``¥500円``) makes it yen.
CURRENCY_WORDS: dict[str, str] = {
    "dollars": "USD",
    "dollar": "USD",
    "美元": "USD",
    "美金": "USD",
    "euros": "EUR",
    "euro": "EUR",
    "欧元": "EUR",
    "pounds": "GBP",
    "pound": "GBP",
    "英镑": "GBP",
    "yuan": "CNY",
    "renminbi": "CNY",
    "元": "CNY",
    "yen": "JPY",
    "日元": "JPY",
    "円": "JPY",
    "rupees": "INR",
    "rupee": "INR",
    "卢比": "INR",
    "won": "KRW",
    "韩元": "KRW",
    **{code: code for code in CURRENCIES},
    "RMB": "CNY",
}
# The words that make a bare amount money (English words after a bare number are read
# well as they stand: "5 dollars"; "5 pounds" may be a weight).
BARE_CURRENCY_WORDS = frozenset(w for w in CURRENCY_WORDS if not w.islower())

# "per" denominators of rates: ``km/s``, ``$5/month`` → (English, Chinese).
PER_UNITS: dict[str, tuple[str, str]] = {
    "s": ("second", "秒"),
    "sec": ("second", "秒"),
    "min": ("minute", "分钟"),
    "h": ("hour", "小时"),
    "hr": ("hour", "小时"),
    "day": ("day", "天"),
    "d": ("day", "天"),
    "week": ("week", "周"),
    "wk": ("week", "周"),
    "month": ("month", "月"),
    "mo": ("month", "月"),
    "year": ("year", "年"),
    "yr": ("year", "年"),
}

# Top-level domains that make a bare ``name.tld`` a web address (``example.org``); none is
# a common English word, so ``it ended.so`` is not read as an address.
TOP_LEVEL_DOMAINS = _words(
    """
    com org net io ai dev edu gov app co cn uk de fr jp tv me info xyz fm ly gg ru ca au eu
    nl ch se hk tw kr sg nz site tech online blog
    """
)

# File name endings read as part of a file name (``report.pdf`` → ``report dot P D F``).
FILE_EXTENSIONS = _words(
    """
    pdf doc docx xls xlsx ppt pptx txt md csv tsv json yaml yml toml xml html htm css js ts
    py ipynb rs java cpp sh exe zip tar gz rar png jpg jpeg gif svg webp mp3 mp4 wav flac
    ogg mov avi mkv epub srt vtt log ini cfg
    """
)

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

# Abbreviation (without its final period) → spoken English.  "Dr"/"St" depend on context
# and are resolved in the verbalizer.
ABBREVIATIONS: dict[str, str] = {
    "Mr": "Mister",
    "Mrs": "Missus",
    "Ms": "Miz",
    "Dr": "Doctor",
    "Prof": "Professor",
    "Jr": "Junior",
    "Sr": "Senior",
    "St": "Saint",
    "vs": "versus",
    "etc": "et cetera",
    "approx": "approximately",
    "Inc": "Incorporated",
    "Ltd": "Limited",
    "Corp": "Corporation",
    "Dept": "Department",
    "Fig": "Figure",
    "Vol": "Volume",
    "Gen": "General",
    "Capt": "Captain",
    "Lt": "Lieutenant",
    "Sgt": "Sergeant",
    "Gov": "Governor",
    "Sen": "Senator",
    "Rep": "Representative",
    "Mt": "Mount",
    "Ave": "Avenue",
    "Blvd": "Boulevard",
    "No": "number",
    "no": "number",
}

# Upper-case words are read by pronounceability (see ``acronyms.py``); these two lists
# settle the words the rule would get wrong or leave to chance.  The user lexicon
# overrides both.
#
# Said as words although the rule alone would spell them (or would not be sure).
WORD_ACRONYMS = _words(
    """
    NASA NATO UNESCO UNICEF OPEC FIFA LASER RADAR SCUBA AIDS COVID SARS ASAP GIF JPEG
    PIN RAM ROM LAN WAN SIM CAPTCHA SWAT OK NAFTA ASEAN IKEA LEGO NASDAQ ESA GAAP POSIX
    YAML TOML JSON WASM DARPA ANSI CERN MIDI BASIC COBOL FORTRAN LIDAR SONAR INTERPOL
    ARM EPCOT JAXA NVIDIA WYSIWYG MOOC SPAC FAANG LLAMA ASCII SaaS I A
    """
)

# Spelled letter by letter although the rule would read them as a word (or might).
INITIALISMS = _words(
    """
    AI AM AR CD EU EV HP ID IO IT MP OS PC PM TV UI UK UN US UX VR
    AAA AMD API ASR AWS BBC BMW CEO CFO CIA CNN COO CPI CPU CSS CTO DIY DNA DVD ETA ETF
    FAQ FBI GDP GPT GPU HDD HIV IBM ICU IDE IEA IMF IPO LCD LED LLM MIT MRI NBA NFL NHK
    NLP NPU PDF RNA SDK SQL SSD TPU TTS UAE UFO URL USA USB WHO XML
    CCTV DRAM HTML HTTP HTTPS IAEA IEEE LAPD NCAA NOAA NYPD UCLA USAF USSR
    """
)

# Short words of ordinary English that an all-caps turn or an emphasis may hold: said as
# words (``This is NOT a drill``), unless the turn itself is not shouting and the word is
# also an initialism above (``US``, ``IT``, ``WHO``, ``AM``, ``PM``).
COMMON_WORDS = _words(
    """
    AN AS AT BE BY DO GO HE IF IN IS IT ME MY NO OF OH ON OR SO TO UP US WE AM PM
    ALL AND ANY ARE BAD BIG BUT CAN DAY DID END FAR FEW FOR GET GOT HAD HAS HER HIM
    HIS HOT HOW ITS LET LOT MAN MAY NEW NOT NOW OFF OLD ONE OUR OUT OWN PUT RED RUN
    SAY SEE SHE SIT TEN THE TOO TOP TRY TWO USE WAS WAY WHO WHY WIN WON YES YET YOU
    """
)

# English consonant clusters, for the pronounceability of upper-case words (acronyms.py):
# those that may begin a syllable, and those that may end one.
CONSONANTS = "BCDFGHJKLMNPQRSTVWXZ"
ENGLISH_ONSETS = _words(
    """
    BL BR CH CL CR DR DW FL FR GL GR GN KL KN KR PH PL PR SC SH SK SL SM SN SP ST SW TH TR
    TW WH WR SQ SCH SCR SHR SPL SPR STR THR
    """
)
ENGLISH_CODAS = _words(
    """
    BS CH CK CT DS FT GH GS KS LB LD LF LK LM LP LS LT LV MB MP MS NC ND NG NK NS NT NX PH PS
    PT RB RC RD RF RG RK RL RM RN RP RS RT RV RX SC SH SK SP ST TH TS WD WK WL WN WS XT CTS
    FTH FTS LCH LDS LFS LKS LMS LPS LTH LTS MPS MPT NCH NDS NGS NGTH NGTHS NKS NTH NTS PTS RBS
    RCH RDS RGS RKS RLD RLDS RLS RMS RNS RPS RST RTH RTS SKS SPS STS TCH XTH
    """
)

# Chinese measure words before which the number 2 is read 两, not 二.
CLASSIFIERS = frozenset(
    "个位名种次本件只条张台部辆天周年岁人层份把块颗场口门项点倍双对组句段篇首批架艘座间所"
)

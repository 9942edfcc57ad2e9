"""Word tables for the podcast verbalizer: units, currencies, abbreviations, acronyms.

Kept as plain data so they are easy to review and extend; the verbalizer builds its
regular expressions from these keys once, at import.
"""

from __future__ import annotations

__all__ = [
    "ABBREVIATIONS",
    "CLASSIFIERS",
    "CURRENCIES",
    "MONTHS",
    "SCALES",
    "UNITS",
    "WORD_ACRONYMS",
    "ZH_UNITS",
]

# unit symbol → (English singular, English plural, Chinese).  Case-sensitive keys.
UNITS: dict[str, tuple[str, str, str]] = {
    "km/h": ("kilometer per hour", "kilometers per hour", "公里每小时"),
    "mph": ("mile per hour", "miles per hour", "英里每小时"),
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

# symbol → (major singular, major plural, minor unit, Chinese name)
CURRENCIES: dict[str, tuple[str, str, str, str]] = {
    "$": ("dollar", "dollars", "cents", "美元"),
    "US$": ("dollar", "dollars", "cents", "美元"),
    "€": ("euro", "euros", "cents", "欧元"),
    "£": ("pound", "pounds", "pence", "英镑"),
    "¥": ("yuan", "yuan", "fen", "元"),
    "￥": ("yuan", "yuan", "fen", "元"),
    "₹": ("rupee", "rupees", "paise", "卢比"),
    "₩": ("won", "won", "jeon", "韩元"),
}

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

# Upper-case words that are said as words, not spelled out.
WORD_ACRONYMS = frozenset(
    {
        "NASA",
        "NATO",
        "UNESCO",
        "UNICEF",
        "OPEC",
        "FIFA",
        "LASER",
        "RADAR",
        "SCUBA",
        "AIDS",
        "COVID",
        "SARS",
        "ASAP",
        "GIF",
        "JPEG",
        "PIN",
        "RAM",
        "ROM",
        "LAN",
        "WAN",
        "SIM",
        "CAPTCHA",
        "SWAT",
        "OK",
        "NAFTA",
        "ASEAN",
        "IKEA",
        "LEGO",
        "NASDAQ",
        "ESA",
        "GAAP",
        "POSIX",
        "YAML",
        "TOML",
        "JSON",
        "WASM",
        "DARPA",
        "ANSI",
        "CERN",
        "MIDI",
        "SaaS",
        "BASIC",
        "COBOL",
        "FORTRAN",
        "LIDAR",
        "SONAR",
        "INTERPOL",
        "EPCOT",
        "I",
        "A",
    }
)

# Chinese measure words before which the number 2 is read 两, not 二.
CLASSIFIERS = frozenset(
    "个位名种次本件只条张台部辆天周年岁人层份把块颗场口门项点倍双对组句段篇首批架艘座间所"
)

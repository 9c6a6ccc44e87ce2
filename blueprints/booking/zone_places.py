"""The US states and Canadian provinces and territories, and the time zones each keeps,
for the zone search: most of Dr. Brown's clients know their state ("Florida"), not the
city the tz database names their clock after ("New York").

Each place's first zone is the one most of it keeps; the others are its corners on
another clock (Florida's panhandle, north-west Ontario). From the tz database's
``zone.tab`` comments, written out in full.
"""

EASTERN = "America/New_York"
CENTRAL = "America/Chicago"
MOUNTAIN = "America/Denver"
PACIFIC = "America/Los_Angeles"

US_STATES = (
    ("Alabama", (CENTRAL,)),
    (
        "Alaska",
        (
            "America/Anchorage",
            "America/Juneau",
            "America/Sitka",
            "America/Metlakatla",
            "America/Yakutat",
            "America/Nome",
            "America/Adak",
        ),
    ),
    ("Arizona", ("America/Phoenix", MOUNTAIN)),  # the Navajo Nation keeps summer time
    ("Arkansas", (CENTRAL,)),
    ("California", (PACIFIC,)),
    ("Colorado", (MOUNTAIN,)),
    ("Connecticut", (EASTERN,)),
    ("Delaware", (EASTERN,)),
    ("District of Columbia", (EASTERN,)),
    ("Washington DC", (EASTERN,)),
    ("Florida", (EASTERN, CENTRAL)),
    ("Georgia", (EASTERN,)),
    ("Hawaii", ("Pacific/Honolulu",)),
    ("Idaho", ("America/Boise", PACIFIC)),
    ("Illinois", (CENTRAL,)),
    (
        "Indiana",
        (
            "America/Indiana/Indianapolis",
            "America/Indiana/Vincennes",
            "America/Indiana/Winamac",
            "America/Indiana/Marengo",
            "America/Indiana/Petersburg",
            "America/Indiana/Vevay",
            "America/Indiana/Tell_City",
            "America/Indiana/Knox",
            CENTRAL,
        ),
    ),
    ("Iowa", (CENTRAL,)),
    ("Kansas", (CENTRAL, MOUNTAIN)),
    (
        "Kentucky",
        (EASTERN, "America/Kentucky/Louisville", "America/Kentucky/Monticello", CENTRAL),
    ),
    ("Louisiana", (CENTRAL,)),
    ("Maine", (EASTERN,)),
    ("Maryland", (EASTERN,)),
    ("Massachusetts", (EASTERN,)),
    ("Michigan", ("America/Detroit", "America/Menominee")),
    ("Minnesota", (CENTRAL,)),
    ("Mississippi", (CENTRAL,)),
    ("Missouri", (CENTRAL,)),
    ("Montana", (MOUNTAIN,)),
    ("Nebraska", (CENTRAL, MOUNTAIN)),
    ("Nevada", (PACIFIC,)),
    ("New Hampshire", (EASTERN,)),
    ("New Jersey", (EASTERN,)),
    ("New Mexico", (MOUNTAIN,)),
    ("New York", (EASTERN,)),
    ("North Carolina", (EASTERN,)),
    (
        "North Dakota",
        (
            CENTRAL,
            "America/North_Dakota/Center",
            "America/North_Dakota/New_Salem",
            "America/North_Dakota/Beulah",
            MOUNTAIN,
        ),
    ),
    ("Ohio", (EASTERN,)),
    ("Oklahoma", (CENTRAL,)),
    ("Oregon", (PACIFIC, "America/Boise")),
    ("Pennsylvania", (EASTERN,)),
    ("Rhode Island", (EASTERN,)),
    ("South Carolina", (EASTERN,)),
    ("South Dakota", (CENTRAL, MOUNTAIN)),
    ("Tennessee", (CENTRAL, EASTERN)),
    ("Texas", (CENTRAL, MOUNTAIN)),
    ("Utah", (MOUNTAIN,)),
    ("Vermont", (EASTERN,)),
    ("Virginia", (EASTERN,)),
    ("Washington", (PACIFIC,)),
    ("West Virginia", (EASTERN,)),
    ("Wisconsin", (CENTRAL,)),
    ("Wyoming", (MOUNTAIN,)),
)

CANADIAN_PROVINCES = (
    ("Alberta", ("America/Edmonton",)),
    (
        "British Columbia",
        (
            "America/Vancouver",
            "America/Creston",
            "America/Dawson_Creek",
            "America/Fort_Nelson",
            "America/Edmonton",
        ),
    ),
    ("Manitoba", ("America/Winnipeg",)),
    ("New Brunswick", ("America/Moncton",)),
    ("Newfoundland", ("America/St_Johns",)),
    ("Labrador", ("America/Goose_Bay", "America/St_Johns")),
    ("Northwest Territories", ("America/Edmonton", "America/Inuvik")),
    ("Nova Scotia", ("America/Halifax", "America/Glace_Bay")),
    (
        "Nunavut",
        (
            "America/Iqaluit",
            "America/Rankin_Inlet",
            "America/Cambridge_Bay",
            "America/Resolute",
            "America/Atikokan",
        ),
    ),
    ("Ontario", ("America/Toronto", "America/Winnipeg", "America/Atikokan")),
    ("Prince Edward Island", ("America/Halifax",)),
    ("Quebec", ("America/Toronto", "America/Blanc-Sablon")),
    ("Saskatchewan", ("America/Regina", "America/Swift_Current", "America/Edmonton")),
    ("Yukon", ("America/Whitehorse", "America/Dawson")),
)

STATES_AND_PROVINCES = US_STATES + CANADIAN_PROVINCES

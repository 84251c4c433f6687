"""A small synthetic corpus written for the tests: one story, its copies, and a
same-topic article written independently."""

STORY = """Flood barriers hold as river peaks in Marlow Bend

By Dana Whitfield

MARLOW BEND — The river cresting through Marlow Bend reached 6.2 metres on Tuesday night, the highest level recorded since 1987, but the temporary barriers installed last week held along the entire waterfront.

Mayor Celia Ortmann said the town had been "one sandbag away from disaster" and thanked the 340 volunteers who filled bags through the weekend. Emergency crews evacuated 58 homes on Dock Street as a precaution.

The barriers, a modular system borrowed from the neighbouring county, were assembled in under two days by engineers from the regional water authority. Officials had warned that the old earthen levee would fail above 5.5 metres.

Farmers north of the town were less fortunate. About 1,200 hectares of winter wheat were flooded when a drainage channel overflowed near the Halden crossroads, according to the agricultural cooperative.

Forecasters expect the water to recede slowly over the next four days, and the town council will meet on Friday to discuss a permanent flood wall. A similar proposal was rejected in 2014 because of its cost, estimated then at 19 million euros.

Residents who left their homes have been housed at the sports hall on Linden Road, where the Red Cross is providing meals and blankets. The mayor said nobody had been injured.
"""

# The same article as another site prints it: new headline, no byline, two small edits.
NEAR_COPY = (STORY
             .replace("Flood barriers hold as river peaks in Marlow Bend", "Marlow Bend barriers withstand record river crest")
             .replace("By Dana Whitfield\n\n", "")
             .replace("through the weekend", "over the weekend")
             .replace("The mayor said nobody", "Mayor Ortmann said nobody"))

_paragraphs = STORY.split("\n\n")
# A wire copy trimmed for print: the last two paragraphs cut.
TRIMMED = "\n\n".join(_paragraphs[:-2]) + "\n"

# Written independently about the same flood: same place and people, other facts and words.
SAME_TOPIC = """Volunteers count the cost after Marlow Bend flood

Opinion by Peter Lang

When I drove into Marlow Bend on Wednesday morning, the main square smelled of mud and diesel. Shopkeepers were dragging ruined stock onto the pavement while children watched from the church steps.

Every spring we are told the river is under control. This year the council waited until the last moment before asking for help, and it was ordinary people, not the authorities, who kept the water out of the old town.

The bakery on Mill Lane lost its ovens. The owner, who has run the shop for thirty years, told me she does not know whether her insurance will pay anything at all.

Celia Ortmann has promised a debate about protection, yet the same debate has been promised after every flood I can remember. Talk is cheap; concrete is not.

If the region wants its small towns to survive, it must decide now who pays for the defences, before the next winter storm arrives and the whole argument starts again.
"""

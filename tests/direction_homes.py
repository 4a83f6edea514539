"""Three homes that look nothing like the demo home, and direction traps said in them.

Each trap: the home, the room it is said in, the sentence, the entity it is about and
the services that would be its OPPOSITE (what must never be done). Written by hand from
how people talk to devices, not from any evaluation set.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from assistant.home.demo import DemoHome

HOMES: dict[str, dict[str, object]] = {
    "cabin": {
        "areas": [
            {"id": "loft", "name": "Loft"}, {"id": "porch", "name": "Porch"},
            {"id": "mudroom", "name": "Mudroom"}, {"id": "den", "name": "Den", "aliases": ["snug"]},
        ],
        "entities": [
            {"entity_id": "light.loft_pendant", "name": "Pendant", "area": "loft",
             "features": ["dimmable"], "state": "on", "attributes": {"brightness_pct": 60}},
            {"entity_id": "light.porch_lantern", "name": "Porch Lantern", "area": "porch",
             "state": "off"},
            {"entity_id": "switch.space_heater", "name": "Space Heater", "area": "den", "state": "off"},
            {"entity_id": "fan.den_fan", "name": "Ceiling Fan", "area": "den", "features": ["speed"],
             "state": "on", "attributes": {"percentage": 50}},
            {"entity_id": "cover.den_shades", "name": "Shades", "area": "den", "features": ["position"],
             "state": "open", "attributes": {"current_position": 100}},
            {"entity_id": "lock.mudroom_door", "name": "Mudroom Door", "area": "mudroom",
             "sensitive": True, "state": "locked"},
            {"entity_id": "media_player.den_stereo", "name": "Stereo", "area": "den",
             "features": ["volume"], "state": "playing", "attributes": {"volume_level": 0.4}},
            {"entity_id": "vacuum.rover", "name": "Rover", "area": "mudroom", "state": "docked"},
            {"entity_id": "climate.heat_pump", "name": "Heat Pump", "area": "den", "state": "heat",
             "attributes": {"temperature": 20, "current_temperature": 19, "min_temp": 10, "max_temp": 30}},
        ],
    },
    "flat": {
        "areas": [
            {"id": "studio", "name": "Art Studio"}, {"id": "kitchenette", "name": "Kitchenette"},
            {"id": "entry", "name": "Entry"}, {"id": "garden", "name": "Garden"},
            {"id": "garage", "name": "Garage"},
        ],
        "entities": [
            {"entity_id": "light.kitchen_light", "name": "Kitchen Light", "area": "kitchenette",
             "features": ["dimmable"], "state": "off", "attributes": {"brightness_pct": 100}},
            {"entity_id": "light.entry_lamp", "name": "Entry Lamp", "area": "entry", "state": "off"},
            {"entity_id": "light.garden_spotlights", "name": "Garden Spotlights", "area": "garden",
             "state": "off"},
            {"entity_id": "media_player.studio", "name": "Media Player", "area": "studio",
             "features": ["volume"], "state": "playing", "attributes": {"volume_level": 0.5}},
            {"entity_id": "lock.back_door", "name": "Back Door", "area": "entry", "state": "locked"},
            {"entity_id": "cover.garage_door", "name": "Garage Door", "area": "garage",
             "device_class": "garage", "state": "closed", "attributes": {"current_position": 0}},
            {"entity_id": "switch.easel_lamp", "name": "Easel Lamp Plug", "area": "studio", "state": "on"},
        ],
    },
    "farmhouse": {
        "areas": [
            {"id": "parlour", "name": "Parlour"}, {"id": "barn", "name": "Barn"},
            {"id": "nursery", "name": "Nursery"}, {"id": "pantry", "name": "Pantry"},
        ],
        "entities": [
            {"entity_id": "light.night_light", "name": "Night Light", "area": "nursery",
             "features": ["dimmable", "color"], "state": "on",
             "attributes": {"brightness_pct": 30, "rgb_color": [255, 255, 255]}},
            {"entity_id": "fan.barn_fan", "name": "Barn Fan", "area": "barn", "features": ["speed"],
             "state": "off", "attributes": {"percentage": 0}},
            {"entity_id": "cover.barn_door", "name": "Barn Door", "area": "barn",
             "device_class": "garage", "state": "open", "attributes": {"current_position": 100}},
            {"entity_id": "cover.nursery_blinds", "name": "Nursery Blinds", "area": "nursery",
             "features": ["position"], "state": "closed", "attributes": {"current_position": 0}},
            {"entity_id": "switch.kettle", "name": "Kettle", "area": "pantry", "state": "on"},
            {"entity_id": "media_player.parlour_tv", "name": "Parlour TV", "area": "parlour",
             "features": ["volume"], "state": "paused", "attributes": {"volume_level": 0.3}},
            {"entity_id": "vacuum.pantry_bot", "name": "Dust Bot", "area": "pantry", "state": "cleaning"},
            {"entity_id": "climate.nursery", "name": "Nursery Thermostat", "area": "nursery",
             "state": "heat", "attributes": {"temperature": 21, "current_temperature": 20,
                                             "min_temp": 10, "max_temp": 30}},
        ],
    },
}

ON, OFF = {"turn_on", "open_cover", "lock", "start", "media_play"}, {"turn_off", "close_cover"}

# (home, room, sentence, entity, services that would be the opposite)
TRAPS: list[tuple[str, str, str, str, set[str]]] = [
    # lights
    ("flat", "kitchenette", "kitchen light on", "light.kitchen_light", {"turn_off"}),
    ("flat", "entry", "Turn on entry lamp", "light.entry_lamp", {"turn_off"}),
    ("flat", "garden", "Activate the garden spotlights", "light.garden_spotlights", {"turn_off"}),
    ("flat", "entry", "entry lamp off please", "light.entry_lamp", {"turn_on"}),
    ("flat", "kitchenette", "don't turn the kitchen light off, turn it on", "light.kitchen_light",
     {"turn_off"}),
    ("flat", "kitchenette", "not off, on: the kitchen light", "light.kitchen_light", {"turn_off"}),
    ("flat", "entry", "toggle the entry lamp", "light.entry_lamp", {"turn_off"}),
    ("cabin", "loft", "toggle the pendant", "light.loft_pendant", {"turn_on"}),
    ("cabin", "porch", "switch the porch lantern on", "light.porch_lantern", {"turn_off"}),
    ("cabin", "porch", "kill the porch lantern", "light.porch_lantern", {"turn_on"}),
    ("cabin", "loft", "dim the pendant", "light.loft_pendant", {"turn_on+up"}),
    ("cabin", "loft", "make the pendant brighter", "light.loft_pendant", {"turn_on+down", "turn_off"}),
    ("cabin", "loft", "it's too dim up here", "light.loft_pendant", {"turn_on+down", "turn_off"}),
    ("cabin", "loft", "turn the pendant down a bit", "light.loft_pendant", {"turn_on+up"}),
    ("cabin", "loft", "turn up the pendant", "light.loft_pendant", {"turn_on+down", "turn_off"}),
    ("farmhouse", "nursery", "night light off", "light.night_light", {"turn_on"}),
    ("farmhouse", "nursery", "lights out in the nursery", "light.night_light", {"turn_on"}),
    ("cabin", "porch", "turn off the lantern on the porch", "light.porch_lantern", {"turn_on"}),
    # switches
    ("cabin", "den", "start the space heater", "switch.space_heater", {"turn_off"}),
    ("cabin", "den", "switch on the space heater", "switch.space_heater", {"turn_off"}),
    ("farmhouse", "pantry", "kettle off", "switch.kettle", {"turn_on"}),
    ("farmhouse", "pantry", "stop the kettle", "switch.kettle", {"turn_on"}),
    ("flat", "studio", "turn the easel lamp plug off", "switch.easel_lamp", {"turn_on"}),
    # fans
    ("cabin", "den", "turn the ceiling fan off", "fan.den_fan", {"turn_on"}),
    ("farmhouse", "barn", "barn fan on", "fan.barn_fan", {"turn_off"}),
    ("cabin", "den", "slow down the ceiling fan", "fan.den_fan", {"set_percentage+up", "increase_speed"}),
    ("cabin", "den", "speed up the ceiling fan", "fan.den_fan",
     {"set_percentage+down", "decrease_speed", "turn_off"}),
    # covers, garage doors
    ("cabin", "den", "open the shades", "cover.den_shades", {"close_cover"}),
    ("cabin", "den", "close the shades", "cover.den_shades", {"open_cover"}),
    ("cabin", "den", "lower the shades", "cover.den_shades", {"open_cover", "set_cover_position+up"}),
    ("farmhouse", "nursery", "raise the nursery blinds", "cover.nursery_blinds",
     {"close_cover", "set_cover_position+down"}),
    ("farmhouse", "nursery", "pull up the nursery blinds", "cover.nursery_blinds", {"close_cover"}),
    ("flat", "garage", "open the garage", "cover.garage_door", {"close_cover"}),
    ("flat", "garage", "shut the garage door", "cover.garage_door", {"open_cover"}),
    ("farmhouse", "barn", "close the barn door", "cover.barn_door", {"open_cover"}),
    ("farmhouse", "barn", "don't open the barn door, close it", "cover.barn_door", {"open_cover"}),
    # locks
    ("flat", "entry", "unlock the back door", "lock.back_door", {"lock"}),
    ("flat", "entry", "lock the back door", "lock.back_door", {"unlock"}),
    ("cabin", "mudroom", "unlock the mudroom door please", "lock.mudroom_door", {"lock"}),
    ("cabin", "mudroom", "secure the mudroom door", "lock.mudroom_door", {"unlock"}),
    # media players
    ("flat", "studio", "Mute the media player in the art studio", "media_player.studio",
     {"volume_mute-"}),
    ("flat", "studio", "unmute the media player", "media_player.studio", {"volume_mute+"}),
    ("flat", "studio", "pause the media player", "media_player.studio", {"media_play"}),
    ("farmhouse", "parlour", "resume the parlour tv", "media_player.parlour_tv",
     {"media_pause", "media_stop"}),
    ("farmhouse", "parlour", "play something on the parlour tv", "media_player.parlour_tv",
     {"media_pause", "media_stop"}),
    ("cabin", "den", "turn the stereo down", "media_player.den_stereo", {"volume_set+up", "volume_up"}),
    ("cabin", "den", "louder on the stereo", "media_player.den_stereo", {"volume_set+down", "volume_down"}),
    ("cabin", "den", "next song on the stereo", "media_player.den_stereo", {"media_previous_track"}),
    ("cabin", "den", "go back a track on the stereo", "media_player.den_stereo", {"media_next_track"}),
    ("cabin", "den", "stop the music on the stereo", "media_player.den_stereo", {"media_play"}),
    # vacuums
    ("cabin", "mudroom", "start rover", "vacuum.rover", {"return_to_base", "stop", "pause"}),
    ("cabin", "mudroom", "send rover home", "vacuum.rover", {"start"}),
    ("farmhouse", "pantry", "stop the dust bot", "vacuum.pantry_bot", {"start"}),
    ("farmhouse", "pantry", "pause the dust bot", "vacuum.pantry_bot", {"start"}),
    ("farmhouse", "pantry", "dust bot go back to your dock", "vacuum.pantry_bot", {"start"}),
    # climate
    ("cabin", "den", "make it warmer in the den", "climate.heat_pump", {"set_temperature+down"}),
    ("cabin", "den", "turn the heat pump down", "climate.heat_pump", {"set_temperature+up"}),
    ("farmhouse", "nursery", "it's too cold in the nursery", "climate.nursery", {"set_temperature+down"}),
    ("farmhouse", "nursery", "cooler in the nursery please", "climate.nursery", {"set_temperature+up"}),
    ("farmhouse", "nursery", "turn off the nursery thermostat", "climate.nursery", {"turn_on"}),
]

# (home, room, sentence, entity, the data field and the value that must be set)
VALUES: list[tuple[str, str, str, str, str, float]] = [
    ("cabin", "loft", "set the pendant to full brightness", "light.loft_pendant", "brightness_pct", 100),
    ("cabin", "loft", "pendant at half", "light.loft_pendant", "brightness_pct", 50),
    ("cabin", "loft", "pendant to forty percent", "light.loft_pendant", "brightness_pct", 40),
    ("cabin", "den", "set the heat pump to eighteen degrees", "climate.heat_pump", "temperature", 18),
    ("cabin", "den", "heat pump to twenty one degrees", "climate.heat_pump", "temperature", 21),
    ("farmhouse", "nursery", "nursery thermostat to 22.5 degrees", "climate.nursery", "temperature", 22.5),
    ("cabin", "den", "stereo volume to thirty percent", "media_player.den_stereo", "volume_level", 0.3),
    ("cabin", "den", "set the shades to twenty five percent", "cover.den_shades", "position", 25),
    ("cabin", "den", "ceiling fan to seventy five percent", "fan.den_fan", "percentage", 75),
]


def build_home(name: str, tmp: Path) -> DemoHome:
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(HOMES[name]), encoding="utf-8")
    return DemoHome(path, tmp / f"{name}.sqlite")

// other globals the firmware touches
print(typeof getSerial, typeof getSerial(), typeof global, global === this, typeof require, typeof E, typeof reset, typeof load, typeof save);
print(typeof digitalRead, typeof digitalWrite, typeof setWatch, typeof clearWatch, typeof pinMode, typeof analogRead, typeof peek8, typeof poke8);

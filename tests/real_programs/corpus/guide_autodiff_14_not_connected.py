# Origin: tensorflow/docs site/en/guide/autodiff.ipynb, cell CU185WDM81Ut ("Cases where gradient returns None").
import tensorflow as tf

x = tf.Variable(2.0)
y = tf.Variable(3.0)
with tf.GradientTape() as tape:
    z = y * y
print(tape.gradient(z, x))

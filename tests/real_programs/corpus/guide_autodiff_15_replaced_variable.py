# Origin: tensorflow/docs site/en/guide/autodiff.ipynb, cell QPKY4Tn9zX7_ ("Replaced a variable with a tensor").
import tensorflow as tf

x = tf.Variable(2.0)
for epoch in range(2):  # noqa: B007 - as the guide writes it
    with tf.GradientTape() as tape:
        y = x + 1
    print(type(x).__name__, ":", tape.gradient(y, x))
    x = x + 1  # This should be x.assign_add(1)

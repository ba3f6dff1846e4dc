# Origin: tensorflow/docs site/en/guide/autodiff.ipynb, cell HSb20FXc_V0U ("No gradient registered": tf.image.adjust_contrast).
import tensorflow as tf

image = tf.Variable([[[0.5, 0.0, 0.0]]])
delta = tf.Variable(0.1)
with tf.GradientTape() as tape:
    new_image = tf.image.adjust_contrast(image, delta)
try:
    print(tape.gradient(new_image, [image, delta]))
    assert False  # noqa: B011 - This should not happen (as the guide writes it).
except LookupError as e:
    print(f"{type(e).__name__}: {e}")
